#!/usr/bin/env python3
"""Rewrites a .cu file's CUDA-only syntax into C++ for the emulated build.

    kernel<<<grid, block, shared, stream>>>(args)
        -> ::mp::emulation::launch(kernel, grid, block, shared, stream)(args)
    (a template kernel whose arguments are deduced, as a generic lambda:
        -> ::mp::emulation::launchDeduced(
               [](auto... a) { kernel(a...); }, grid, ...)(args))
    extern __shared__ __align__(N) T name[];
        -> T *name = reinterpret_cast<T *>(::mp::emulation::dynamicSharedMemory());

Line breaks are kept, so the compiler's messages name the .cu file's lines
(a #line directive names the file). Anything left that only nvcc reads
(<<< or >>>) is an error.

Usage: translate-launches.py INPUT.cu OUTPUT.cpp
"""

import re
import sys

LAUNCH = re.compile(
    r"([A-Za-z_]\w*(?:<[^<>;]*>)?)(\s*)<<<(.*?)>>>(\s*)\(", re.S)
TEMPLATE_KERNEL = re.compile(
    r"template\s*<[^;{]*?>\s*__global__\s+void\s+"
    r"(?:__launch_bounds__\([^)]*\)\s+)?(\w+)\s*\(")
DYNAMIC_SHARED = re.compile(
    r"extern\s+__shared__\s+(?:__align__\(\s*\d+\s*\)\s+)?"
    r"([A-Za-z_][\w ]*?)\s+(\w+)\s*\[\s*\]\s*;")


def translate(text):
    text = DYNAMIC_SHARED.sub(
        r"\1 *\2 = reinterpret_cast<\1 *>("
        r"::mp::emulation::dynamicSharedMemory());", text)
    deduced = set(TEMPLATE_KERNEL.findall(text))

    def launch(match):
        kernel, space, config, space2 = match.groups()
        if kernel in deduced:
            return (f"::mp::emulation::launchDeduced([](auto... a) "
                    f"{{ {kernel}(a...); }}{space}, {config}){space2}(")
        return f"::mp::emulation::launch({kernel}{space}, {config}){space2}("

    return LAUNCH.sub(launch, text)


def main():
    source, output = sys.argv[1:3]
    with open(source) as f:
        text = translate(f.read())
    for number, line in enumerate(text.split("\n"), 1):
        if "<<<" in line or ">>>" in line:
            sys.exit(f"{source}:{number}: a launch translate-launches.py "
                     f"does not read: {line.strip()}")
    with open(output, "w") as f:
        f.write(f'#line 1 "{source}"\n' + text)


if __name__ == "__main__":
    main()
