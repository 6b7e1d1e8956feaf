// Hostile plan files: every one ends in one located error and a non-zero
// exit, never a crash, a hang or a plan silently changed by the reader.

// RUN: rm -rf %t && split-file %s %t
// RUN: %python -c "print('{\"plan\": ' + '[' * 40000 + ']' * 40000 + '}')" > %t/deep.json
// RUN: %python -c "print('{\"plan\": {' + ', '.join('\"w%d\": \"colwise\"' % i for i in range(1200000)) + '}}')" > %t/huge.json

// Nesting deep enough to overflow llvm::json's recursion is refused first.
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/deep.json 2>&1 | FileCheck %s --check-prefix=DEEP
// DEEP: deep.json:1:41: error: plan file nests deeper than 32 levels

// A device or a file past the bound is never read to its end.
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=/dev/zero 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: error: plan file '/dev/zero' is larger than 16777216 bytes
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/huge.json 2>&1 | FileCheck %s --check-prefix=HUGE
// HUGE: error: plan file '{{.*}}huge.json' is larger than 16777216 bytes
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/missing.json 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: cannot read plan file '{{.*}}missing.json': No such file or directory

// A repeated key is an error at its second spelling, with a note at the first
// (JSON would silently keep the last: the second "plan" dropped the styles).
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/twice.json 2>&1 | FileCheck %s --check-prefix=TWICE
// TWICE: twice.json:3:2: error: plan file repeats the key "plan" in one object (JSON would keep only the last)
// TWICE: twice.json:2:2: note: first given here
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/entrytwice.json 2>&1 | FileCheck %s --check-prefix=ENTRYTWICE
// ENTRYTWICE: entrytwice.json:2:28: error: plan file repeats the key "w1" in one object

// Unknown keys inside "mesh" are errors like unknown keys at the top.
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/meshkey.json 2>&1 | FileCheck %s --check-prefix=MESHKEY
// MESHKEY: meshkey.json:1:42: error: unknown "mesh" key "devices"; expected "shape" and "names"

// Names that would break generated files are refused where they enter.
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/quote.json 2>&1 | FileCheck %s --check-prefix=QUOTE
// QUOTE: quote.json:1:2: error: mesh axis name 't"p' is not 1 to 256 characters of [A-Za-z0-9_.:/-]
// RUN: not mp-opt %t/model.mlir --mp-apply-plan=%t/newline.json 2>&1 | FileCheck %s --check-prefix=NEWLINE
// NEWLINE: newline.json:2:2: error: plan entry 'w1{{$}}
// NEWLINE-NEXT: #define' is not 1 to 256 characters of [A-Za-z0-9_.:/-] and the glob characters *?[]!^

//--- model.mlir
func.func @model(%x: tensor<8x8xf32> {mp.input = "x"},
                 %w1: tensor<8x8xf32> {mp.param = "w1"}) {
  return
}
//--- twice.json
{"mesh": {"shape": [2], "names": ["tp"]}, "tensor_parallel": "tp",
 "plan": {"w1": "colwise"},
 "plan": {}}
//--- entrytwice.json
{"mesh": {"shape": [2], "names": ["tp"]}, "tensor_parallel": "tp",
 "plan": {"w1": "colwise", "w1": "rowwise"}}
//--- meshkey.json
{"mesh": {"shape": [2], "names": ["tp"], "devices": 2}, "tensor_parallel": "tp"}
//--- quote.json
{"mesh": {"shape": [2], "names": ["t\"p"]}, "tensor_parallel": "t\"p"}
//--- newline.json
{"mesh": {"shape": [2], "names": ["tp"]}, "tensor_parallel": "tp",
 "plan": {"w1\n#define": "colwise"}}
