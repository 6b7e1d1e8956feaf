// mp-translate on a step lowered by --mp-lower-to-runtime: the C header
// (entry points, tensor tables, compiling as C), LLVM IR with the step
// descriptors, an object defining them, and its errors.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: mp-opt %s --mp-lower-to-runtime -o %t/lowered.mlir
// RUN: mp-translate %t/lowered.mlir --emit-header -o %t/step.h
// RUN: FileCheck %s --check-prefix=HEADER < %t/step.h
// RUN: cc -fsyntax-only -Wall -Werror -I%mp_src_root/runtime/include -include %t/step.h -x c /dev/null
// RUN: c++ -fsyntax-only -Wall -Werror -I%mp_src_root/runtime/include -include %t/step.h -x c++ /dev/null
// RUN: mp-translate %t/lowered.mlir --emit-llvm | FileCheck %s --check-prefix=LLVM
// RUN: mp-translate %t/lowered.mlir --emit-llvm --default-step=forward | FileCheck %s --check-prefix=CHOSEN
// RUN: mp-translate %t/lowered.mlir -o %t/step.o
// RUN: llvm-nm %t/step.o | FileCheck %s --check-prefix=OBJECT
// RUN: not mp-translate %s 2>&1 | FileCheck %s --check-prefix=NOT-LOWERED
// RUN: not mp-translate %t/lowered.mlir --default-step=nosuch 2>&1 | FileCheck %s --check-prefix=NO-SUCH

// HEADER: #include "mp_runtime.h"
// HEADER: /* forward: mesh data_parallel=2 x tensor_parallel=2; per rank 64 bytes of arguments and an arena of 64 bytes.
// HEADER: mp_status forward(mp_context *ctx, void *const *args, void *const *outputs);
// HEADER-NEXT: extern const mp_step forward_step;
// HEADER-NEXT: #define FORWARD_NUM_ARGS 2
// HEADER-NEXT: #define FORWARD_NUM_OUTPUTS 1
// HEADER-NEXT: #define FORWARD_MESH_NUM_AXES 2
// HEADER-NEXT: static const char *const forward_mesh_axes[] = {"data_parallel", "tensor_parallel"};
// HEADER-NEXT: static const int64_t forward_mesh_sizes[] = {2, 2};
// HEADER-NEXT: static const mp_step_tensor forward_args[] = {
// HEADER-NEXT:   {"x", "input", "f32", 2, {4, 8}, {2, 4}, "data_parallel|tensor_parallel"},
// HEADER-NEXT:   {"w", "param", "f32", 2, {2, 8}, {2, 4}, "-|tensor_parallel"},
// HEADER-NEXT: };
// HEADER-NEXT: static const mp_step_tensor forward_outputs[] = {
// HEADER-NEXT:   {"y", "output", "f32", 2, {2, 2}, {2, 2}, "data_parallel|-"},
// HEADER-NEXT: };
// HEADER: mp_status train_step(mp_context *ctx, void *const *args, void *const *outputs);
// HEADER: #define TRAIN_STEP_NUM_ARGS 2
// HEADER-NEXT: #define TRAIN_STEP_NUM_OUTPUTS 1
// HEADER-NEXT: #define TRAIN_STEP_MESH_NUM_AXES 2
// HEADER-NEXT: static const char *const train_step_mesh_axes[] = {"data_parallel", "tensor_parallel"};
// HEADER-NEXT: static const int64_t train_step_mesh_sizes[] = {2, 2};
// HEADER-NEXT: static const mp_step_tensor train_step_args[] = {
// HEADER-NEXT:   {"w", "param", "f32", 2, {2, 8}, {2, 4}, "-|tensor_parallel"},
// HEADER-NEXT:   {"x", "input", "f32", 2, {4, 8}, {2, 4}, "data_parallel|tensor_parallel"},
// HEADER-NEXT: };
// HEADER-NEXT: static const mp_step_tensor train_step_outputs[] = {
// HEADER-NEXT:   {"loss", "output", "f32", 0, {0}, {0}, ""},

// The trainer runs the first function that updates parameters, unless
// --default-step names another.
// LLVM: @forward_step = constant { i32, ptr, ptr, ptr } { i32 32, ptr @__mp_name_forward, ptr @__mp_manifest_forward, ptr @forward }
// LLVM: @train_step_step = constant { i32, ptr, ptr, ptr } { i32 32, ptr @__mp_name_train_step, ptr @__mp_manifest_train_step, ptr @train_step }
// LLVM: @mp_default_step = weak constant ptr @train_step_step
// LLVM: define i32 @forward(ptr %0, ptr %1, ptr %2)
// LLVM: call i32 @mp_all_reduce(
// LLVM: define i32 @train_step(ptr %0, ptr %1, ptr %2)
// CHOSEN: @mp_default_step = weak constant ptr @forward_step

// OBJECT-DAG: T forward
// OBJECT-DAG: {{[DR]}} forward_step
// OBJECT-DAG: T train_step
// OBJECT-DAG: {{[DR]}} train_step_step
// OBJECT-DAG: V mp_default_step
// OBJECT-DAG: U mp_all_reduce
// OBJECT-DAG: U mp_sgd_f32

// NOT-LOWERED: error: no function lowered to runtime calls (run mp-opt --mp-lower-to-runtime first)
// NO-SUCH: error: --default-step: no lowered function named 'nosuch'

mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
func.func @forward(%x: tensor<2x4xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[data_parallel], [tensor_parallel]]>},
                   %w: tensor<2x4xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[], [tensor_parallel]]>})
    -> (tensor<2x2xf32> {mp.output = "y", mp.sharding = #mp.sharding<@mesh, [[data_parallel], []]>}) attributes {mp.partitioned} {
  %y = mp.linear %x, %w : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  %r = mp.all_reduce %y on @mesh axes ["tensor_parallel"] : tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}

// A (hand-written) SGD step on the same shards.
func.func @train_step(%w: tensor<2x4xf32> {mp.param = "w", mp.sharding = #mp.sharding<@mesh, [[], [tensor_parallel]]>},
                      %x: tensor<2x4xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, [[data_parallel], [tensor_parallel]]>})
    -> (tensor<2x4xf32> {mp.output = "w", mp.sharding = #mp.sharding<@mesh, [[], [tensor_parallel]]>}, tensor<f32> {mp.output = "loss", mp.sharding = #mp.sharding<@mesh, []>}) attributes {mp.partitioned} {
  %y = mp.linear %x, %w : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2xf32>
  %partial = mp.sum %y : tensor<2x2xf32> -> tensor<f32>
  %loss = mp.all_reduce %partial on @mesh axes ["data_parallel", "tensor_parallel"] : tensor<f32>
  %new = mp.sgd %w, %w {lr = 1.000000e-01 : f64, weight_decay = 0.000000e+00 : f64} : tensor<2x4xf32>
  return %new, %loss : tensor<2x4xf32>, tensor<f32>
}
