// mp.layer_norm in a GPT-2-shaped model (two pre-norm blocks, LayerNorm ->
// colwise fc1 -> gelu -> rowwise fc2 -> residual, a final LayerNorm, cross
// entropy) on the reference interpreter in float64:
//  - its gradients (mp.layer_norm_grad for the input, the two results of
//    mp.layer_norm_weight_grad for weight and bias) against central finite
//    differences;
//  - partitioned = global: sequence_parallel on the norm modules splits the
//    norms' rows over tp (torchtitan's SequenceParallel on nn.LayerNorm) and
//    the batch is split over dp, so each rank's weight and bias gradients
//    are partial sums over both axes; the forward and an AdamW step
//    (weight decay, clipping) on 2x2, with the gradient sync verified; the
//    same on 1x4, where the sequence (6) splits unevenly over tp (4); and
//    FSDP with data parallelism alone (4x1) with SGD + Nesterov momentum.
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: mp-opt %s --mp-train-step="optimizer=sgd lr=1 weight-decay=0" -o %t/sgd.mlir
// RUN: mp-run %t/sgd.mlir --entry=gpt --gradcheck | FileCheck %s --check-prefix=GRAD
// GRAD: gradcheck: 10 parameters, 560 elements, max abs error {{.*}}: match
//
// 2x2.
// RUN: mp-opt %s --mp-apply-plan -o %t/a.global.mlir
// RUN: mp-opt %t/a.global.mlir --mp-spmd -o %t/a.spmd.mlir
// RUN: mp-run %t/a.spmd.mlir --entry=gpt --reference=%t/a.global.mlir --rtol 1e-9 --atol 1e-12 | FileCheck %s --check-prefix=FORWARD
// RUN: mp-opt %s --mp-apply-plan --mp-train-step="optimizer=adamw lr=1e-2 weight-decay=0.1 max-grad-norm=1.0" -o %t/a_step.global.mlir
// RUN: mp-opt %t/a_step.global.mlir --mp-spmd --mp-verify-gradient-sync -o %t/a_step.spmd.mlir
// RUN: mp-run %t/a_step.spmd.mlir --entry=gpt_train_step --reference=%t/a_step.global.mlir --rtol 1e-9 --atol 1e-12 | FileCheck %s
// Each rank normalizes 2 of the 4 sequences (dp) and 3 of their 6
// positions (tp), and sums its rows into partial weight and bias gradients,
// reduced over both axes: reduce-scattered over dp into the FSDP shard the
// clipping norm and the update take, then all-reduced over tp.
// RUN: FileCheck %s --check-prefix=LOCAL < %t/a_step.spmd.mlir
// LOCAL-LABEL: func.func @gpt_train_step
// LOCAL: mp.layer_norm_grad %{{.*}} : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
// LOCAL: %[[W:.+]], %[[B:.+]] = mp.layer_norm_weight_grad %{{.*}} : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> (tensor<8xf32>, tensor<8xf32>)
// LOCAL-DAG: %[[WS:.+]] = mp.reduce_scatter %[[W]] on @mesh axes ["dp"] dim 0
// LOCAL-DAG: mp.all_reduce %[[WS]] on @mesh axes ["tp"]
// LOCAL-DAG: %[[BS:.+]] = mp.reduce_scatter %[[B]] on @mesh axes ["dp"] dim 0
// LOCAL-DAG: mp.all_reduce %[[BS]] on @mesh axes ["tp"]
//
// 1x4: the sequence split 2 + 2 + 2 + 0.
// RUN: sed -e 's/<dp = 2, tp = 2>/<dp = 1, tp = 4>/' %s > %t/b.mlir
// RUN: mp-opt %t/b.mlir --mp-apply-plan --mp-train-step="optimizer=adamw lr=1e-2 weight-decay=0.1 max-grad-norm=1.0" -o %t/b_step.global.mlir
// RUN: mp-opt %t/b_step.global.mlir --mp-spmd --mp-verify-gradient-sync -o %t/b_step.spmd.mlir
// RUN: mp-run %t/b_step.spmd.mlir --entry=gpt_train_step --reference=%t/b_step.global.mlir --rtol 1e-9 --atol 1e-12 | FileCheck %s
// RUN: FileCheck %s --check-prefix=UNEVEN < %t/b_step.spmd.mlir
// UNEVEN: mp.zero_padding %{{.*}} on @mesh axes ["tp"] dim 1 extent 6 : tensor<4x2x8xf32>
// UNEVEN-NEXT: mp.layer_norm_weight_grad
//
// 4x1.
// RUN: sed -e 's/<dp = 2, tp = 2>/<dp = 4, tp = 1>/' %s > %t/c.mlir
// RUN: mp-opt %t/c.mlir --mp-apply-plan --mp-train-step="optimizer=sgd lr=0.1 momentum=0.9 nesterov=true max-grad-norm=0.5" -o %t/c_step.global.mlir
// RUN: mp-opt %t/c_step.global.mlir --mp-spmd --mp-verify-gradient-sync -o %t/c_step.spmd.mlir
// RUN: mp-run %t/c_step.spmd.mlir --entry=gpt_train_step --reference=%t/c_step.global.mlir --rtol 1e-9 --atol 1e-12 | FileCheck %s
//
// FORWARD: max abs error: {{.*}} over 1 results: match
// CHECK: max abs error: {{.*}} over {{21|32}} results: match

module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, batch_axis = dp,
                                      styles = {"layers.*.norm" = sequence_parallel, "layers.*.fc1" = colwise,
                                                "layers.*.fc2" = rowwise, norm = sequence_parallel}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @gpt(%x: tensor<4x6x8xf32> {mp.input = "x"}, %y: tensor<4x6xi64> {mp.target = "y"},
                 %n0w: tensor<8xf32> {mp.param = "layers.0.norm.weight"}, %n0b: tensor<8xf32> {mp.param = "layers.0.norm.bias"},
                 %u0: tensor<16x8xf32> {mp.param = "layers.0.fc1.weight"}, %d0: tensor<8x16xf32> {mp.param = "layers.0.fc2.weight"},
                 %n1w: tensor<8xf32> {mp.param = "layers.1.norm.weight"}, %n1b: tensor<8xf32> {mp.param = "layers.1.norm.bias"},
                 %u1: tensor<16x8xf32> {mp.param = "layers.1.fc1.weight"}, %d1: tensor<8x16xf32> {mp.param = "layers.1.fc2.weight"},
                 %nw: tensor<8xf32> {mp.param = "norm.weight"}, %nb: tensor<8xf32> {mp.param = "norm.bias"}) -> tensor<f32> {
    %n0 = mp.layer_norm %x, %n0w, %n0b eps 1.0e-5 : (tensor<4x6x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x6x8xf32>
    %h0 = mp.linear %n0, %u0 : (tensor<4x6x8xf32>, tensor<16x8xf32>) -> tensor<4x6x16xf32>
    %a0 = mp.gelu %h0 : tensor<4x6x16xf32>
    %o0 = mp.linear %a0, %d0 : (tensor<4x6x16xf32>, tensor<8x16xf32>) -> tensor<4x6x8xf32>
    %r0 = mp.add %x, %o0 : tensor<4x6x8xf32>
    %n1 = mp.layer_norm %r0, %n1w, %n1b eps 1.0e-5 : (tensor<4x6x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x6x8xf32>
    %h1 = mp.linear %n1, %u1 : (tensor<4x6x8xf32>, tensor<16x8xf32>) -> tensor<4x6x16xf32>
    %a1 = mp.gelu %h1 : tensor<4x6x16xf32>
    %o1 = mp.linear %a1, %d1 : (tensor<4x6x16xf32>, tensor<8x16xf32>) -> tensor<4x6x8xf32>
    %r1 = mp.add %r0, %o1 : tensor<4x6x8xf32>
    %n = mp.layer_norm %r1, %nw, %nb eps 1.0e-5 : (tensor<4x6x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x6x8xf32>
    %loss = mp.cross_entropy %n, %y : (tensor<4x6x8xf32>, tensor<4x6xi64>) -> tensor<f32>
    return %loss : tensor<f32>
  }
}
