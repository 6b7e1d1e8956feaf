// RUN: mp-opt %s --mp-apply-plan --mp-train-step --mp-spmd | FileCheck %s

// Each collective names the plan entry whose split it moves. An FSDP use
// (the annotation apply-plan writes for a parameter's all_gather) moves
// only the FSDP axis; the tensor-parallel split it keeps is its style's.
// Here the norm of w1's whole output (OLMo 2's q_norm) needs w1's colwise
// split gathered, forward; backward, w2's rowwise split leaves the norm's
// output gradient split the same way, and that gather names w2's entry,
// not w2's FSDP use. (The OLMo 2 run of Runtime/hf-llama.test checks the
// case where an FSDP use was named for such a gather.)

// CHECK-LABEL: func.func @whole_norm
// CHECK: mp.all_gather %{{.+}} on @mesh axes ["tp"] dim 1 origin "'w1' (colwise) -> mp.rms_norm"
// CHECK: mp.all_reduce %{{.+}} on @mesh axes ["tp"] origin "'w2' (rowwise) -> mp.mse_loss"
// CHECK: mp.all_gather %{{.+}} on @mesh axes ["tp"] dim 1 origin "'w2' (rowwise) -> mp.rms_norm_grad"
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, fsdp_axis = dp, styles = {w1 = colwise, w2 = rowwise}>} {
  mp.mesh @mesh = <dp = 2, tp = 2>
  func.func @whole_norm(%x: tensor<8x16xf32> {mp.input = "x"}, %y: tensor<8x16xf32> {mp.target = "y"},
                        %w1: tensor<32x16xf32> {mp.param = "w1"}, %g: tensor<32xf32> {mp.param = "g"},
                        %w2: tensor<16x32xf32> {mp.param = "w2"}) -> tensor<f32> {
    %h = mp.linear %x, %w1 : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
    %n = mp.rms_norm %h, %g eps 1.0e-05 : (tensor<8x32xf32>, tensor<32xf32>) -> tensor<8x32xf32>
    %o = mp.linear %n, %w2 : (tensor<8x32xf32>, tensor<16x32xf32>) -> tensor<8x16xf32>
    %l = mp.mse_loss %o, %y : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<f32>
    return %l : tensor<f32>
  }
}
