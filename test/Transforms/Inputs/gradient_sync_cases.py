#!/usr/bin/env python3
"""Every way a gradient's partial sums can meet its reductions, on a mesh.

  gradient_sync_cases.py AXIS=SIZE...

Prints an mp-opt input (-split-input-file) with one case per combination
of: the axes P the gradient is a partial sum over (every subset of the
mesh's axes: a contraction over a dim split over P), the axes A that
collectives then sum it over (every ordered list of distinct axes, empty
included), and how (one all_reduce; an all_reduce of A's first axis then
one of the rest; one reduce_scatter onto the parameter's split dim 0).
Each case carries the diagnostic --mp-verify-gradient-sync must give:
  * an axis of A the value is not partial over (an over-reduction scales
    the gradient by the group size): an error at the collective that sums
    over it, naming the first such axis;
  * otherwise, axes of P left out of A (an under-reduction): an error at
    the update naming them;
  * otherwise none.
"""

import itertools
import sys


def fmt(axes):
    return "[" + ", ".join(axes) + "]"


def quoted(axes):
    return "[" + ", ".join(f'"{a}"' for a in axes) + "]"


def main():
    mesh = [(name, int(size)) for name, size in
            (arg.split("=") for arg in sys.argv[1:])]
    names = [name for name, _ in mesh]
    size = dict(mesh)
    total = 1
    for _, s in mesh:
        total *= s
    dim = total  # the parameter's dims: divisible by every group
    header = "mp.mesh @mesh = <" + ", ".join(f"{n} = {s}" for n, s in mesh) + ">"
    cases = []
    for r in range(len(names) + 1):
        for partial in itertools.combinations(names, r):
            group = 1
            for a in partial:
                group *= size[a]
            batch = total // group  # the rank's rows of x
            for n in range(len(names) + 1):
                for reduced in itertools.permutations(names, n):
                    for how in ("all_reduce", "two_all_reduces", "reduce_scatter"):
                        if how == "two_all_reduces" and len(reduced) < 2:
                            continue
                        if how == "reduce_scatter" and not reduced:
                            continue
                        cases.append(make_case(len(cases), partial, reduced, how,
                                               batch, dim, size))
    print(("\n// -----\n").join(header + "\n" + case for case in cases))


def make_case(index, partial, reduced, how, batch, dim, size):
    over = [a for a in reduced if a not in partial]
    under = [a for a in partial if a not in reduced]
    scatter = how == "reduce_scatter"
    rows = dim
    if scatter:
        for a in reduced:
            rows //= size[a]
    w_sharding = f"[{fmt(reduced) if scatter else '[]'}, []]"
    lines = [
        f"// P = {fmt(partial)}, summed over {fmt(reduced)} by {how}",
        f"func.func @case{index}(%w: tensor<{rows}x{dim}xf32> {{mp.param = \"w\", "
        f"mp.sharding = #mp.sharding<@mesh, {w_sharding}>}},",
        f"    %x: tensor<{batch}x{dim}xf32> {{mp.input = \"x\", "
        f"mp.sharding = #mp.sharding<@mesh, [{fmt(partial)}, []]>}})",
        f"    -> (tensor<{rows}x{dim}xf32> {{mp.sharding = #mp.sharding<@mesh, {w_sharding}>}}) "
        "attributes {mp.partitioned} {",
        f"  %xt = mp.transpose %x perm [1, 0] : tensor<{batch}x{dim}xf32> -> tensor<{dim}x{batch}xf32>",
        f"  %g = mp.matmul %xt, %x : (tensor<{dim}x{batch}xf32>, tensor<{batch}x{dim}xf32>) "
        f"-> tensor<{dim}x{dim}xf32>",
    ]

    def expect_over(axes):
        first = [a for a in axes if a not in partial]
        if first:
            lines.append(f"  // expected-error@+1 {{{{sums over '{first[0]}' a value that "
                         "is not a partial sum over it}}")
        return bool(first)

    value = "%g"
    if how == "all_reduce" and reduced:
        failed = expect_over(reduced)
        lines.append(f"  %r = mp.all_reduce %g on @mesh axes {quoted(reduced)} : "
                     f"tensor<{dim}x{dim}xf32>")
        value = "%r"
    elif how == "two_all_reduces":
        failed = expect_over(reduced[:1])
        lines.append(f"  %r0 = mp.all_reduce %g on @mesh axes {quoted(reduced[:1])} : "
                     f"tensor<{dim}x{dim}xf32>")
        if not failed:
            expect_over(reduced[1:])
        lines.append(f"  %r = mp.all_reduce %r0 on @mesh axes {quoted(reduced[1:])} : "
                     f"tensor<{dim}x{dim}xf32>")
        value = "%r"
    elif scatter:
        expect_over(reduced)
        lines.append(f"  %r = mp.reduce_scatter %g on @mesh axes {quoted(reduced)} dim 0 : "
                     f"tensor<{dim}x{dim}xf32> -> tensor<{rows}x{dim}xf32>")
        value = "%r"
    if not over and under:
        lines.append(f"  // expected-error@+1 {{{{the gradient of 'w' is never reduced "
                     f"over {fmt(under)}}}}}")
    lines.append(f"  %new = mp.sgd %w, {value} {{lr = 1.0e-01 : f64, weight_decay = 0.0 : f64}} "
                 f": tensor<{rows}x{dim}xf32>")
    lines.append(f"  return %new : tensor<{rows}x{dim}xf32>")
    lines.append("}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
