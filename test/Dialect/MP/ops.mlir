// RUN: mp-opt %s | FileCheck %s
// RUN: mp-opt %s | mp-opt | FileCheck %s
// RUN: mp-opt %s --mlir-print-op-generic | mp-opt | FileCheck %s

// CHECK: mp.mesh @mesh = <dp = 2, tp = 2>{{$}}
mp.mesh @mesh = <dp = 2, tp = 2>

// CHECK-LABEL: func.func @gemms
func.func @gemms(%x: tensor<8x16xf32>, %x3: tensor<2x4x16xf32>, %w: tensor<32x16xf32>,
                 %a: tensor<4x8x16xbf16>, %b: tensor<4x16x32xbf16>, %r: tensor<16x32xbf16>) {
  // CHECK-NEXT: mp.linear %arg0, %arg2 : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  %0 = mp.linear %x, %w : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xf32>
  // CHECK-NEXT: mp.linear %arg1, %arg2 : (tensor<2x4x16xf32>, tensor<32x16xf32>) -> tensor<2x4x32xf32>
  %1 = mp.linear %x3, %w : (tensor<2x4x16xf32>, tensor<32x16xf32>) -> tensor<2x4x32xf32>
  // CHECK-NEXT: mp.matmul %arg3, %arg4 : (tensor<4x8x16xbf16>, tensor<4x16x32xbf16>) -> tensor<4x8x32xbf16>
  %2 = mp.matmul %a, %b : (tensor<4x8x16xbf16>, tensor<4x16x32xbf16>) -> tensor<4x8x32xbf16>
  // CHECK-NEXT: mp.matmul %arg3, %arg5 : (tensor<4x8x16xbf16>, tensor<16x32xbf16>) -> tensor<4x8x32xbf16>
  %3 = mp.matmul %a, %r : (tensor<4x8x16xbf16>, tensor<16x32xbf16>) -> tensor<4x8x32xbf16>
  // CHECK-NEXT: %[[S:.+]] = mp.linear %arg0, %arg2 accumulate %{{.+}} precision <bf16> : (tensor<8x16xf32>, tensor<32x16xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  %4 = mp.linear %x, %w accumulate %0 precision <bf16> : (tensor<8x16xf32>, tensor<32x16xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  // CHECK-NEXT: mp.matmul %arg3, %arg5 precision <bf16>
  // CHECK-NEXT: mp.matmul %arg3, %arg5 accumulate %{{.+}} scale 2.500000e-01 precision <bf16> : (tensor<4x8x16xbf16>, tensor<16x32xbf16>, tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  %5 = mp.matmul %a, %r precision <bf16> : (tensor<4x8x16xbf16>, tensor<16x32xbf16>) -> tensor<4x8x32xf32>
  %6 = mp.matmul %a, %r accumulate %5 scale 2.500000e-01 precision <bf16> : (tensor<4x8x16xbf16>, tensor<16x32xbf16>, tensor<4x8x32xf32>) -> tensor<4x8x32xf32>
  // A bf16 GEMM writing bfloat16 (its float32 result rounded).
  // CHECK-NEXT: mp.linear %arg0, %arg2 precision <bf16> : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xbf16>
  %7 = mp.linear %x, %w precision <bf16> : (tensor<8x16xf32>, tensor<32x16xf32>) -> tensor<8x32xbf16>
  // CHECK-NEXT: mp.matmul %arg3, %arg5 precision <bf16> : (tensor<4x8x16xbf16>, tensor<16x32xbf16>) -> tensor<4x8x32xbf16>
  %8 = mp.matmul %a, %r precision <bf16> : (tensor<4x8x16xbf16>, tensor<16x32xbf16>) -> tensor<4x8x32xbf16>
  return
}

// The rotary embedding computes in float32 and may hold its input and
// result in bf16 (one type where both agree).
// CHECK-LABEL: func.func @bf16_rope
func.func @bf16_rope(%x: tensor<2x2x4xf32>, %b: tensor<2x2x4xbf16>) {
  // CHECK-NEXT: mp.rope %arg1 theta 1.000000e+04 : (tensor<2x2x4xbf16>) -> tensor<2x2x4xf32>
  %0 = mp.rope %b theta 1.0e4 : (tensor<2x2x4xbf16>) -> tensor<2x2x4xf32>
  // CHECK-NEXT: mp.rope %arg0 theta 1.000000e+04 inverse : (tensor<2x2x4xf32>) -> tensor<2x2x4xbf16>
  %1 = mp.rope %x theta 1.0e4 inverse : (tensor<2x2x4xf32>) -> tensor<2x2x4xbf16>
  // CHECK-NEXT: mp.rope %arg1 theta 1.000000e+04 : tensor<2x2x4xbf16>
  %2 = mp.rope %b theta 1.0e4 : tensor<2x2x4xbf16>
  return
}

// Float32 computations held in bfloat16: one type where all agree, else
// the functional type.
// CHECK-LABEL: func.func @bf16_storage
func.func @bf16_storage(%x: tensor<8xf32>, %b: tensor<8xbf16>) {
  // CHECK-NEXT: mp.add %arg1, %arg0 : (tensor<8xbf16>, tensor<8xf32>) -> tensor<8xbf16>
  %0 = mp.add %b, %x : (tensor<8xbf16>, tensor<8xf32>) -> tensor<8xbf16>
  // CHECK-NEXT: mp.swiglu %arg1, %arg1 : tensor<8xbf16>
  %1 = mp.swiglu %b, %b : tensor<8xbf16>
  // CHECK-NEXT: mp.scale %arg1 by 5.000000e-01 : (tensor<8xbf16>) -> tensor<8xf32>
  %2 = mp.scale %b by 0.5 : (tensor<8xbf16>) -> tensor<8xf32>
  // CHECK-NEXT: mp.gelu %arg0 tanh : (tensor<8xf32>) -> tensor<8xbf16>
  %3 = mp.gelu %x tanh : (tensor<8xf32>) -> tensor<8xbf16>
  // CHECK-NEXT: mp.swiglu_grad %arg0, %arg1, %arg1 : (tensor<8xf32>, tensor<8xbf16>, tensor<8xbf16>) -> (tensor<8xbf16>, tensor<8xf32>)
  %4:2 = mp.swiglu_grad %x, %b, %b : (tensor<8xf32>, tensor<8xbf16>, tensor<8xbf16>) -> (tensor<8xbf16>, tensor<8xf32>)
  // CHECK-NEXT: mp.silu_grad %arg0, %arg1 : (tensor<8xf32>, tensor<8xbf16>) -> tensor<8xf32>
  %5 = mp.silu_grad %x, %b : (tensor<8xf32>, tensor<8xbf16>) -> tensor<8xf32>
  // RMSNorm of a bf16-held input, its weight float32.
  // CHECK-NEXT: mp.rms_norm %arg1, %arg0 eps 1.000000e-05 : (tensor<8xbf16>, tensor<8xf32>) -> tensor<8xbf16>
  %6 = mp.rms_norm %b, %x eps 1.0e-5 : (tensor<8xbf16>, tensor<8xf32>) -> tensor<8xbf16>
  // CHECK-NEXT: mp.rms_norm_grad %arg1, %arg0, %arg0 eps 1.000000e-05 : (tensor<8xbf16>, tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %7 = mp.rms_norm_grad %b, %x, %x eps 1.0e-5 : (tensor<8xbf16>, tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  // CHECK-NEXT: mp.rms_norm_weight_grad %arg1, %arg0 eps 1.000000e-05 : (tensor<8xbf16>, tensor<8xf32>) -> tensor<8xf32>
  %8 = mp.rms_norm_weight_grad %b, %x eps 1.0e-5 : (tensor<8xbf16>, tensor<8xf32>) -> tensor<8xf32>
  // Their gradient held in bf16 too (a sum tensor parallelism made in bf16):
  // the results stay f32.
  // CHECK-NEXT: mp.rms_norm_grad %arg0, %arg0, %arg1 eps 1.000000e-05 : (tensor<8xf32>, tensor<8xf32>, tensor<8xbf16>) -> tensor<8xf32>
  %9 = mp.rms_norm_grad %x, %x, %b eps 1.0e-5 : (tensor<8xf32>, tensor<8xf32>, tensor<8xbf16>) -> tensor<8xf32>
  // CHECK-NEXT: mp.rms_norm_weight_grad %arg1, %arg1 eps 1.000000e-05 : (tensor<8xbf16>, tensor<8xbf16>) -> tensor<8xf32>
  %10 = mp.rms_norm_weight_grad %b, %b eps 1.0e-5 : (tensor<8xbf16>, tensor<8xbf16>) -> tensor<8xf32>
  // CHECK-NEXT: mp.rms_norm_weight_grad %arg0, %arg1 eps 1.000000e-05 : (tensor<8xf32>, tensor<8xbf16>) -> tensor<8xf32>
  %11 = mp.rms_norm_weight_grad %x, %b eps 1.0e-5 : (tensor<8xf32>, tensor<8xbf16>) -> tensor<8xf32>
  // LayerNorm as RMSNorm, its weight and bias float32.
  // CHECK-NEXT: mp.layer_norm %arg1, %arg0, %arg0 eps 1.000000e-05 : (tensor<8xbf16>, tensor<8xf32>, tensor<8xf32>) -> tensor<8xbf16>
  %12 = mp.layer_norm %b, %x, %x eps 1.0e-5 : (tensor<8xbf16>, tensor<8xf32>, tensor<8xf32>) -> tensor<8xbf16>
  // CHECK-NEXT: mp.layer_norm_grad %arg1, %arg0, %arg1 eps 1.000000e-05 : (tensor<8xbf16>, tensor<8xf32>, tensor<8xbf16>) -> tensor<8xf32>
  %13 = mp.layer_norm_grad %b, %x, %b eps 1.0e-5 : (tensor<8xbf16>, tensor<8xf32>, tensor<8xbf16>) -> tensor<8xf32>
  // CHECK-NEXT: mp.layer_norm_weight_grad %arg0, %arg1 eps 1.000000e-05 : (tensor<8xf32>, tensor<8xbf16>) -> (tensor<8xf32>, tensor<8xf32>)
  %14:2 = mp.layer_norm_weight_grad %x, %b eps 1.0e-5 : (tensor<8xf32>, tensor<8xbf16>) -> (tensor<8xf32>, tensor<8xf32>)
  return
}

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%x: tensor<8x16xf32>, %y: tensor<8x16xf32>, %h: tensor<4xf16>, %d: tensor<2x2xf64>) {
  // CHECK-NEXT: mp.add %arg0, %arg1 : tensor<8x16xf32>
  %0 = mp.add %x, %y : tensor<8x16xf32>
  // CHECK-NEXT: mp.sub %arg0, %arg1 : tensor<8x16xf32>
  %1 = mp.sub %x, %y : tensor<8x16xf32>
  // CHECK-NEXT: mp.mul %arg0, %arg1 : tensor<8x16xf32>
  %2 = mp.mul %x, %y : tensor<8x16xf32>
  // CHECK-NEXT: mp.div %arg0, %arg1 : tensor<8x16xf32>
  %3 = mp.div %x, %y : tensor<8x16xf32>
  // CHECK-NEXT: mp.neg %arg2 : tensor<4xf16>
  %4 = mp.neg %h : tensor<4xf16>
  // CHECK-NEXT: mp.exp %arg3 : tensor<2x2xf64>
  %5 = mp.exp %d : tensor<2x2xf64>
  // CHECK-NEXT: mp.relu %arg0 : tensor<8x16xf32>
  %6 = mp.relu %x : tensor<8x16xf32>
  // CHECK-NEXT: mp.sigmoid %arg0 : tensor<8x16xf32>
  %7 = mp.sigmoid %x : tensor<8x16xf32>
  // CHECK-NEXT: mp.tanh %arg0 : tensor<8x16xf32>
  %tanh = mp.tanh %x : tensor<8x16xf32>
  // CHECK-NEXT: mp.silu %arg0 : tensor<8x16xf32>
  %8 = mp.silu %x : tensor<8x16xf32>
  // CHECK-NEXT: mp.swiglu %arg0, %{{.+}} : tensor<8x16xf32>
  %swiglu = mp.swiglu %x, %8 : tensor<8x16xf32>
  // CHECK-NEXT: mp.gelu %arg0 : tensor<8x16xf32>
  %9 = mp.gelu %x : tensor<8x16xf32>
  // CHECK-NEXT: mp.gelu %arg0 tanh : tensor<8x16xf32>
  %10 = mp.gelu %x tanh : tensor<8x16xf32>
  // CHECK-NEXT: mp.scale %arg0 by 5.000000e-01 : tensor<8x16xf32>
  %11 = mp.scale %x by 0.5 : tensor<8x16xf32>
  // CHECK-NEXT: mp.rsqrt %arg0 eps 1.000000e-05 : tensor<8x16xf32>
  %12 = mp.rsqrt %x eps 1.0e-5 : tensor<8x16xf32>
  // CHECK-NEXT: mp.clamp %arg0 min -8.000000e+00 max 8.000000e+00 : tensor<8x16xf32>
  %13 = mp.clamp %x min -8.0 max 8.0 : tensor<8x16xf32>
  // CHECK-NEXT: mp.clamp_mask %arg0 min 0xFFF0000000000000 max 5.000000e-01 : tensor<8x16xf32>
  %14 = mp.clamp_mask %x min 0xFFF0000000000000 max 0.5 : tensor<8x16xf32>
  return
}

// CHECK-LABEL: func.func @reductions_and_layout
func.func @reductions_and_layout(%x: tensor<2x4x8xf32>) {
  // CHECK-NEXT: mp.sum %arg0 : tensor<2x4x8xf32> -> tensor<f32>
  %0 = mp.sum %x : tensor<2x4x8xf32> -> tensor<f32>
  // CHECK-NEXT: mp.sum %arg0 dims [0, 2] : tensor<2x4x8xf32> -> tensor<4xf32>
  %1 = mp.sum %x dims [0, 2] : tensor<2x4x8xf32> -> tensor<4xf32>
  // CHECK-NEXT: mp.mean %arg0 : tensor<2x4x8xf32> -> tensor<f32>
  %2 = mp.mean %x : tensor<2x4x8xf32> -> tensor<f32>
  // CHECK-NEXT: mp.mean %arg0 dims [1] : tensor<2x4x8xf32> -> tensor<2x8xf32>
  %3 = mp.mean %x dims [1] : tensor<2x4x8xf32> -> tensor<2x8xf32>
  // CHECK-NEXT: mp.reshape %arg0 : tensor<2x4x8xf32> -> tensor<8x8xf32>
  %4 = mp.reshape %x : tensor<2x4x8xf32> -> tensor<8x8xf32>
  // CHECK-NEXT: mp.transpose %arg0 perm [2, 0, 1] : tensor<2x4x8xf32> -> tensor<8x2x4xf32>
  %5 = mp.transpose %x perm [2, 0, 1] : tensor<2x4x8xf32> -> tensor<8x2x4xf32>
  return
}

// CHECK-LABEL: func.func @losses
func.func @losses(%p: tensor<8x4xf32>, %t: tensor<8x4xf32>, %logits: tensor<2x8x10xf32>,
                  %l64: tensor<2x8xi64>, %l32: tensor<2x8xi32>) {
  // CHECK-NEXT: mp.mse_loss %arg0, %arg1 : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
  %0 = mp.mse_loss %p, %t : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
  // CHECK-NEXT: mp.mse_loss %arg0, %arg1 reduction sum : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
  %1 = mp.mse_loss %p, %t reduction sum : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
  // CHECK-NEXT: mp.cross_entropy %arg2, %arg3 : (tensor<2x8x10xf32>, tensor<2x8xi64>) -> tensor<f32>
  %2 = mp.cross_entropy %logits, %l64 : (tensor<2x8x10xf32>, tensor<2x8xi64>) -> tensor<f32>
  // CHECK-NEXT: mp.cross_entropy %arg2, %arg4 reduction sum : (tensor<2x8x10xf32>, tensor<2x8xi32>) -> tensor<f32>
  %3 = mp.cross_entropy %logits, %l32 reduction sum : (tensor<2x8x10xf32>, tensor<2x8xi32>) -> tensor<f32>
  // CHECK-NEXT: mp.cross_entropy %arg2, %arg3 reduction sum ignore_index -100 : (tensor<2x8x10xf32>, tensor<2x8xi64>) -> tensor<f32>
  %4 = mp.cross_entropy %logits, %l64 reduction sum ignore_index -100 : (tensor<2x8x10xf32>, tensor<2x8xi64>) -> tensor<f32>
  // CHECK-NEXT: mp.target_mask %arg4 ignore_index 3 : tensor<2x8xi32> -> tensor<2x8xf32>
  %5 = mp.target_mask %l32 ignore_index 3 : tensor<2x8xi32> -> tensor<2x8xf32>
  return
}

// CHECK-LABEL: func.func @annotations
func.func @annotations(%x: tensor<8x16xf32>) {
  // CHECK-NEXT: mp.annotate %arg0 <@mesh, {{\[}}[dp], [tp]]> : tensor<8x16xf32>
  %0 = mp.annotate %x <@mesh, [[dp], [tp]]> : tensor<8x16xf32>
  // CHECK-NEXT: mp.annotate %arg0 <@mesh, {{\[}}[tp, dp], []]> entry "fsdp(dp): w1" : tensor<8x16xf32>
  %1 = mp.annotate %x <@mesh, [[tp, dp], []]> entry "fsdp(dp): w1" : tensor<8x16xf32>
  // CHECK-NEXT: mp.annotate %arg0 <@mesh, {{\[}}[tp, dp], []]> entry "fsdp(dp): w1" regather : tensor<8x16xf32>
  %2 = mp.annotate %x <@mesh, [[tp, dp], []]> entry "fsdp(dp): w1" regather : tensor<8x16xf32>
  return
}

//===----------------------------------------------------------------------===//
// Exact printed forms with the data flow between ops.
//===----------------------------------------------------------------------===//

// Axis names keep quotes only where they need them; extra attributes stay.
// CHECK: mp.mesh @line = <tp = 8>{{$}}
mp.mesh @line = <tp = 8>
// CHECK: mp.mesh @cube = <a.b = 2, "c-d" = 2, e = 2> {test.note = "3d"}{{$}}
mp.mesh @cube = <"a.b" = 2, "c-d" = 2, e = 2> {test.note = "3d"}

// CHECK-LABEL: func.func @annotate_flow(
// CHECK-SAME: [[X:%arg[0-9]+]]: tensor<8x16xf32>, [[T:%arg[0-9]+]]: tensor<8xi64>, [[C:%arg[0-9]+]]: tensor<4x4x4xf32>)
func.func @annotate_flow(%x: tensor<8x16xf32>, %t: tensor<8xi64>, %c: tensor<4x4x4xf32>)
    -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8xi64>, tensor<4x4x4xf32>, tensor<8x16xf32>) {
  // CHECK-NEXT: [[A0:%.+]] = mp.annotate [[X]] <@mesh, {{\[\[}}dp], [tp]]> : tensor<8x16xf32>{{$}}
  %0 = mp.annotate %x <@mesh, [[dp], [tp]]> : tensor<8x16xf32>
  // A partial sum with the plan entry it comes from.
  // CHECK-NEXT: [[A1:%.+]] = mp.annotate [[A0]] <@mesh, {{\[\[}}dp], []], partial = [tp]> entry "'w2' (rowwise)" : tensor<8x16xf32>{{$}}
  %1 = mp.annotate %0 <@mesh, [[dp], []], partial = [tp]> entry "'w2' (rowwise)" : tensor<8x16xf32>
  // Integer targets can be annotated too.
  // CHECK-NEXT: [[A2:%.+]] = mp.annotate [[T]] <@mesh, {{\[\[}}dp]]> entry "batch_axis(dp): y" : tensor<8xi64>{{$}}
  %2 = mp.annotate %t <@mesh, [[dp]]> entry "batch_axis(dp): y" : tensor<8xi64>
  // Quoted axis names; the three dims of a 3-D mesh.
  // CHECK-NEXT: [[A3:%.+]] = mp.annotate [[C]] <@cube, {{\[\[}}a.b], [], ["c-d"]], partial = [e]> : tensor<4x4x4xf32>{{$}}
  %3 = mp.annotate %c <@cube, [["a.b"], [], ["c-d"]], partial = [e]> : tensor<4x4x4xf32>
  // An empty partial list is the same as none and is not printed.
  // CHECK-NEXT: [[A4:%.+]] = mp.annotate [[X]] <@line, {{\[\[}}tp], []]> : tensor<8x16xf32>{{$}}
  %4 = mp.annotate %x <@line, [[tp], []], partial = []> : tensor<8x16xf32>
  // CHECK-NEXT: return [[A0]], [[A1]], [[A2]], [[A3]], [[A4]] : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8xi64>, tensor<4x4x4xf32>, tensor<8x16xf32>
  return %0, %1, %2, %3, %4 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8xi64>, tensor<4x4x4xf32>, tensor<8x16xf32>
}

// CHECK-LABEL: func.func @linear_2d(
// CHECK-SAME: [[X:%arg[0-9]+]]: tensor<8x64xf32>, [[W:%arg[0-9]+]]: tensor<128x64xf32>)
func.func @linear_2d(%x: tensor<8x64xf32>, %w: tensor<128x64xf32>) -> tensor<8x128xf32> {
  // CHECK-NEXT: [[Y:%.+]] = mp.linear [[X]], [[W]] : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>{{$}}
  %y = mp.linear %x, %w : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
  // CHECK-NEXT: return [[Y]] : tensor<8x128xf32>
  return %y : tensor<8x128xf32>
}

// CHECK-LABEL: func.func @linear_3d_bf16(
// CHECK-SAME: [[X:%arg[0-9]+]]: tensor<2x8x64xbf16>, [[W:%arg[0-9]+]]: tensor<32x64xbf16>)
func.func @linear_3d_bf16(%x: tensor<2x8x64xbf16>, %w: tensor<32x64xbf16>) -> tensor<2x8x32xbf16> {
  // CHECK-NEXT: [[Y:%.+]] = mp.linear [[X]], [[W]] : (tensor<2x8x64xbf16>, tensor<32x64xbf16>) -> tensor<2x8x32xbf16>{{$}}
  %y = mp.linear %x, %w : (tensor<2x8x64xbf16>, tensor<32x64xbf16>) -> tensor<2x8x32xbf16>
  // CHECK-NEXT: return [[Y]] : tensor<2x8x32xbf16>
  return %y : tensor<2x8x32xbf16>
}

// A rank-1 input is one sample [in].
// CHECK-LABEL: func.func @linear_1d_f64(
// CHECK-SAME: [[X:%arg[0-9]+]]: tensor<64xf64>, [[W:%arg[0-9]+]]: tensor<16x64xf64>)
func.func @linear_1d_f64(%x: tensor<64xf64>, %w: tensor<16x64xf64>) -> tensor<16xf64> {
  // CHECK-NEXT: [[Y:%.+]] = mp.linear [[X]], [[W]] : (tensor<64xf64>, tensor<16x64xf64>) -> tensor<16xf64>{{$}}
  %y = mp.linear %x, %w : (tensor<64xf64>, tensor<16x64xf64>) -> tensor<16xf64>
  // CHECK-NEXT: return [[Y]] : tensor<16xf64>
  return %y : tensor<16xf64>
}

// CHECK-LABEL: func.func @matmul_batched_f16(
// CHECK-SAME: [[A:%arg[0-9]+]]: tensor<4x8x16xf16>, [[B:%arg[0-9]+]]: tensor<4x16x32xf16>, [[R:%arg[0-9]+]]: tensor<16x32xf16>)
func.func @matmul_batched_f16(%a: tensor<4x8x16xf16>, %b: tensor<4x16x32xf16>, %r: tensor<16x32xf16>) -> (tensor<4x8x32xf16>, tensor<4x8x32xf16>) {
  // CHECK-NEXT: [[C:%.+]] = mp.matmul [[A]], [[B]] : (tensor<4x8x16xf16>, tensor<4x16x32xf16>) -> tensor<4x8x32xf16>{{$}}
  %c = mp.matmul %a, %b : (tensor<4x8x16xf16>, tensor<4x16x32xf16>) -> tensor<4x8x32xf16>
  // A rank-2 rhs is shared by every batch.
  // CHECK-NEXT: [[S:%.+]] = mp.matmul [[A]], [[R]] : (tensor<4x8x16xf16>, tensor<16x32xf16>) -> tensor<4x8x32xf16>{{$}}
  %s = mp.matmul %a, %r : (tensor<4x8x16xf16>, tensor<16x32xf16>) -> tensor<4x8x32xf16>
  // CHECK-NEXT: return [[C]], [[S]] : tensor<4x8x32xf16>, tensor<4x8x32xf16>
  return %c, %s : tensor<4x8x32xf16>, tensor<4x8x32xf16>
}

// CHECK-LABEL: func.func @matmul_ranks(
// CHECK-SAME: [[A:%arg[0-9]+]]: tensor<2x3x8x16xf32>, [[B:%arg[0-9]+]]: tensor<2x3x16x4xf32>, [[M:%arg[0-9]+]]: tensor<8x16xf32>, [[N:%arg[0-9]+]]: tensor<16x4xf32>)
func.func @matmul_ranks(%a: tensor<2x3x8x16xf32>, %b: tensor<2x3x16x4xf32>, %m: tensor<8x16xf32>, %n: tensor<16x4xf32>)
    -> (tensor<2x3x8x4xf32>, tensor<8x4xf32>) {
  // Two batch dims.
  // CHECK-NEXT: [[C:%.+]] = mp.matmul [[A]], [[B]] : (tensor<2x3x8x16xf32>, tensor<2x3x16x4xf32>) -> tensor<2x3x8x4xf32>{{$}}
  %c = mp.matmul %a, %b : (tensor<2x3x8x16xf32>, tensor<2x3x16x4xf32>) -> tensor<2x3x8x4xf32>
  // No batch dim.
  // CHECK-NEXT: [[D:%.+]] = mp.matmul [[M]], [[N]] : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>{{$}}
  %d = mp.matmul %m, %n : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>
  // A scaled product (the GEMM's alpha).
  // CHECK-NEXT: mp.matmul [[M]], [[N]] scale 1.250000e-01 precision <bf16> : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>{{$}}
  %e = mp.matmul %m, %n scale 0.125 precision <bf16> : (tensor<8x16xf32>, tensor<16x4xf32>) -> tensor<8x4xf32>
  // CHECK-NEXT: return [[C]], [[D]] : tensor<2x3x8x4xf32>, tensor<8x4xf32>
  return %c, %d : tensor<2x3x8x4xf32>, tensor<8x4xf32>
}

// CHECK-LABEL: func.func @binary_flow(
// CHECK-SAME: [[A:%arg[0-9]+]]: tensor<8x16xf32>, [[B:%arg[0-9]+]]: tensor<8x16xf32>)
func.func @binary_flow(%a: tensor<8x16xf32>, %b: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // CHECK-NEXT: [[ADD:%.+]] = mp.add [[A]], [[B]] : tensor<8x16xf32>{{$}}
  %0 = mp.add %a, %b : tensor<8x16xf32>
  // CHECK-NEXT: [[SUB:%.+]] = mp.sub [[ADD]], [[B]] : tensor<8x16xf32>{{$}}
  %1 = mp.sub %0, %b : tensor<8x16xf32>
  // CHECK-NEXT: [[MUL:%.+]] = mp.mul [[A]], [[SUB]] : tensor<8x16xf32>{{$}}
  %2 = mp.mul %a, %1 : tensor<8x16xf32>
  // CHECK-NEXT: [[DIV:%.+]] = mp.div [[MUL]], [[ADD]] : tensor<8x16xf32>{{$}}
  %3 = mp.div %2, %0 : tensor<8x16xf32>
  // CHECK-NEXT: return [[DIV]] : tensor<8x16xf32>
  return %3 : tensor<8x16xf32>
}

// CHECK-LABEL: func.func @binary_low_precision(
// CHECK-SAME: [[A:%arg[0-9]+]]: tensor<4xf16>, [[B:%arg[0-9]+]]: tensor<bf16>)
func.func @binary_low_precision(%a: tensor<4xf16>, %b: tensor<bf16>) -> (tensor<4xf16>, tensor<bf16>) {
  // CHECK-NEXT: [[ADD:%.+]] = mp.add [[A]], [[A]] : tensor<4xf16>{{$}}
  %0 = mp.add %a, %a : tensor<4xf16>
  // Rank-0 operands are elementwise too.
  // CHECK-NEXT: [[DIV:%.+]] = mp.div [[B]], [[B]] : tensor<bf16>{{$}}
  %1 = mp.div %b, %b : tensor<bf16>
  // CHECK-NEXT: return [[ADD]], [[DIV]] : tensor<4xf16>, tensor<bf16>
  return %0, %1 : tensor<4xf16>, tensor<bf16>
}

// CHECK-LABEL: func.func @unary_flow(
// CHECK-SAME: [[X:%arg[0-9]+]]: tensor<8x16xf32>)
func.func @unary_flow(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  // CHECK-NEXT: [[NEG:%.+]] = mp.neg [[X]] : tensor<8x16xf32>{{$}}
  %0 = mp.neg %x : tensor<8x16xf32>
  // CHECK-NEXT: [[EXP:%.+]] = mp.exp [[NEG]] : tensor<8x16xf32>{{$}}
  %1 = mp.exp %0 : tensor<8x16xf32>
  // CHECK-NEXT: [[RELU:%.+]] = mp.relu [[EXP]] : tensor<8x16xf32>{{$}}
  %2 = mp.relu %1 : tensor<8x16xf32>
  // CHECK-NEXT: [[SIG:%.+]] = mp.sigmoid [[RELU]] : tensor<8x16xf32>{{$}}
  %3 = mp.sigmoid %2 : tensor<8x16xf32>
  // CHECK-NEXT: [[SILU:%.+]] = mp.silu [[SIG]] : tensor<8x16xf32>{{$}}
  %4 = mp.silu %3 : tensor<8x16xf32>
  // CHECK-NEXT: [[GELU:%.+]] = mp.gelu [[SILU]] : tensor<8x16xf32>{{$}}
  %5 = mp.gelu %4 : tensor<8x16xf32>
  // CHECK-NEXT: [[GELUT:%.+]] = mp.gelu [[GELU]] tanh : tensor<8x16xf32>{{$}}
  %6 = mp.gelu %5 tanh : tensor<8x16xf32>
  // CHECK-NEXT: [[HALF:%.+]] = mp.scale [[GELUT]] by 5.000000e-01 : tensor<8x16xf32>{{$}}
  %7 = mp.scale %6 by 0.5 : tensor<8x16xf32>
  // CHECK-NEXT: [[SMALL:%.+]] = mp.scale [[HALF]] by -1.250000e-03 : tensor<8x16xf32>{{$}}
  %8 = mp.scale %7 by -1.25e-3 : tensor<8x16xf32>
  // CHECK-NEXT: [[EXACT:%.+]] = mp.scale [[SMALL]] by 0.123456789012345 : tensor<8x16xf32>{{$}}
  %9 = mp.scale %8 by 0.123456789012345 : tensor<8x16xf32>
  // CHECK-NEXT: return [[EXACT]] : tensor<8x16xf32>
  return %9 : tensor<8x16xf32>
}

// CHECK-LABEL: func.func @unary_f64(
// CHECK-SAME: [[X:%arg[0-9]+]]: tensor<3xf64>)
func.func @unary_f64(%x: tensor<3xf64>) -> tensor<3xf64> {
  // CHECK-NEXT: [[G:%.+]] = mp.gelu [[X]] tanh : tensor<3xf64>{{$}}
  %0 = mp.gelu %x tanh : tensor<3xf64>
  // CHECK-NEXT: [[S:%.+]] = mp.scale [[G]] by 2.000000e+00 : tensor<3xf64>{{$}}
  %1 = mp.scale %0 by 2.0 : tensor<3xf64>
  // CHECK-NEXT: return [[S]] : tensor<3xf64>
  return %1 : tensor<3xf64>
}

// CHECK-LABEL: func.func @reductions_flow(
// CHECK-SAME: [[X:%arg[0-9]+]]: tensor<2x8x16xf32>)
func.func @reductions_flow(%x: tensor<2x8x16xf32>)
    -> (tensor<f32>, tensor<2x16xf32>, tensor<f32>, tensor<8xf32>, tensor<2x8x16xf32>) {
  // CHECK-NEXT: [[SUM:%.+]] = mp.sum [[X]] : tensor<2x8x16xf32> -> tensor<f32>{{$}}
  %0 = mp.sum %x : tensor<2x8x16xf32> -> tensor<f32>
  // CHECK-NEXT: [[SUMD:%.+]] = mp.sum [[X]] dims [1] : tensor<2x8x16xf32> -> tensor<2x16xf32>{{$}}
  %1 = mp.sum %x dims [1] : tensor<2x8x16xf32> -> tensor<2x16xf32>
  // CHECK-NEXT: [[MEAN:%.+]] = mp.mean [[X]] : tensor<2x8x16xf32> -> tensor<f32>{{$}}
  %2 = mp.mean %x : tensor<2x8x16xf32> -> tensor<f32>
  // The dims are kept in the order written.
  // CHECK-NEXT: [[MEAND:%.+]] = mp.mean [[X]] dims [2, 0] : tensor<2x8x16xf32> -> tensor<8xf32>{{$}}
  %3 = mp.mean %x dims [2, 0] : tensor<2x8x16xf32> -> tensor<8xf32>
  // An empty dims list is not an absent one: it reduces nothing.
  // CHECK-NEXT: [[NONE:%.+]] = mp.sum [[X]] dims [] : tensor<2x8x16xf32> -> tensor<2x8x16xf32>{{$}}
  %4 = mp.sum %x dims [] : tensor<2x8x16xf32> -> tensor<2x8x16xf32>
  // CHECK-NEXT: return [[SUM]], [[SUMD]], [[MEAN]], [[MEAND]], [[NONE]] : tensor<f32>, tensor<2x16xf32>, tensor<f32>, tensor<8xf32>, tensor<2x8x16xf32>
  return %0, %1, %2, %3, %4 : tensor<f32>, tensor<2x16xf32>, tensor<f32>, tensor<8xf32>, tensor<2x8x16xf32>
}

// CHECK-LABEL: func.func @reductions_f64(
// CHECK-SAME: [[X:%arg[0-9]+]]: tensor<4x4xf64>, [[S:%arg[0-9]+]]: tensor<f64>)
func.func @reductions_f64(%x: tensor<4x4xf64>, %s: tensor<f64>) -> (tensor<4xf64>, tensor<f64>) {
  // CHECK-NEXT: [[M:%.+]] = mp.mean [[X]] dims [0] : tensor<4x4xf64> -> tensor<4xf64>{{$}}
  %0 = mp.mean %x dims [0] : tensor<4x4xf64> -> tensor<4xf64>
  // A rank-0 input reduces to a rank-0 result.
  // CHECK-NEXT: [[T:%.+]] = mp.sum [[S]] : tensor<f64> -> tensor<f64>{{$}}
  %1 = mp.sum %s : tensor<f64> -> tensor<f64>
  // CHECK-NEXT: return [[M]], [[T]] : tensor<4xf64>, tensor<f64>
  return %0, %1 : tensor<4xf64>, tensor<f64>
}

// CHECK-LABEL: func.func @reshape_flow(
// CHECK-SAME: [[X:%arg[0-9]+]]: tensor<2x4x64xf32>, [[O:%arg[0-9]+]]: tensor<1x1xbf16>)
func.func @reshape_flow(%x: tensor<2x4x64xf32>, %o: tensor<1x1xbf16>) -> (tensor<1x512xf32>, tensor<bf16>) {
  // CHECK-NEXT: [[R:%.+]] = mp.reshape [[X]] : tensor<2x4x64xf32> -> tensor<8x64xf32>{{$}}
  %0 = mp.reshape %x : tensor<2x4x64xf32> -> tensor<8x64xf32>
  // CHECK-NEXT: [[R2:%.+]] = mp.reshape [[R]] : tensor<8x64xf32> -> tensor<1x512xf32>{{$}}
  %1 = mp.reshape %0 : tensor<8x64xf32> -> tensor<1x512xf32>
  // To rank 0.
  // CHECK-NEXT: [[R0:%.+]] = mp.reshape [[O]] : tensor<1x1xbf16> -> tensor<bf16>{{$}}
  %2 = mp.reshape %o : tensor<1x1xbf16> -> tensor<bf16>
  // CHECK-NEXT: return [[R2]], [[R0]] : tensor<1x512xf32>, tensor<bf16>
  return %1, %2 : tensor<1x512xf32>, tensor<bf16>
}

// CHECK-LABEL: func.func @transpose_flow(
// CHECK-SAME: [[X:%arg[0-9]+]]: tensor<8x64xf32>, [[Y:%arg[0-9]+]]: tensor<2x3x4xf16>)
func.func @transpose_flow(%x: tensor<8x64xf32>, %y: tensor<2x3x4xf16>) -> (tensor<64x8xf32>, tensor<4x2x3xf16>) {
  // CHECK-NEXT: [[T:%.+]] = mp.transpose [[X]] perm [1, 0] : tensor<8x64xf32> -> tensor<64x8xf32>{{$}}
  %0 = mp.transpose %x perm [1, 0] : tensor<8x64xf32> -> tensor<64x8xf32>
  // Result dim i is input dim perm[i].
  // CHECK-NEXT: [[T3:%.+]] = mp.transpose [[Y]] perm [2, 0, 1] : tensor<2x3x4xf16> -> tensor<4x2x3xf16>{{$}}
  %1 = mp.transpose %y perm [2, 0, 1] : tensor<2x3x4xf16> -> tensor<4x2x3xf16>
  // CHECK-NEXT: return [[T]], [[T3]] : tensor<64x8xf32>, tensor<4x2x3xf16>
  return %0, %1 : tensor<64x8xf32>, tensor<4x2x3xf16>
}

// A transpose rounds into bfloat16 or widens out of it as it copies.
// CHECK-LABEL: func.func @transpose_storage(
func.func @transpose_storage(%x: tensor<2x3xf32>, %y: tensor<3x2xbf16>) -> (tensor<3x2xbf16>, tensor<2x3xf32>) {
  // CHECK-NEXT: mp.transpose %arg0 perm [1, 0] : tensor<2x3xf32> -> tensor<3x2xbf16>
  %0 = mp.transpose %x perm [1, 0] : tensor<2x3xf32> -> tensor<3x2xbf16>
  // CHECK-NEXT: mp.transpose %arg1 perm [1, 0] : tensor<3x2xbf16> -> tensor<2x3xf32>
  %1 = mp.transpose %y perm [1, 0] : tensor<3x2xbf16> -> tensor<2x3xf32>
  return %0, %1 : tensor<3x2xbf16>, tensor<2x3xf32>
}

// CHECK-LABEL: func.func @mse_loss_flow(
// CHECK-SAME: [[P:%arg[0-9]+]]: tensor<8x4xf32>, [[Y:%arg[0-9]+]]: tensor<8x4xf32>, [[H:%arg[0-9]+]]: tensor<16xf16>)
func.func @mse_loss_flow(%p: tensor<8x4xf32>, %y: tensor<8x4xf32>, %h: tensor<16xf16>)
    -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f16>) {
  // CHECK-NEXT: [[L:%.+]] = mp.mse_loss [[P]], [[Y]] : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>{{$}}
  %0 = mp.mse_loss %p, %y : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
  // CHECK-NEXT: [[S:%.+]] = mp.mse_loss [[P]], [[Y]] reduction sum : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>{{$}}
  %1 = mp.mse_loss %p, %y reduction sum : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
  // The default reduction is not printed.
  // CHECK-NEXT: [[M:%.+]] = mp.mse_loss [[P]], [[Y]] : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>{{$}}
  %2 = mp.mse_loss %p, %y reduction mean : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<f32>
  // CHECK-NEXT: [[LH:%.+]] = mp.mse_loss [[H]], [[H]] reduction sum : (tensor<16xf16>, tensor<16xf16>) -> tensor<f16>{{$}}
  %3 = mp.mse_loss %h, %h reduction sum : (tensor<16xf16>, tensor<16xf16>) -> tensor<f16>
  // CHECK-NEXT: return [[L]], [[S]], [[M]], [[LH]] : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f16>
  return %0, %1, %2, %3 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f16>
}

// CHECK-LABEL: func.func @cross_entropy_flow(
// CHECK-SAME: [[Z:%arg[0-9]+]]: tensor<8x10xf32>, [[Y64:%arg[0-9]+]]: tensor<8xi64>, [[Y32:%arg[0-9]+]]: tensor<8xi32>)
func.func @cross_entropy_flow(%z: tensor<8x10xf32>, %y64: tensor<8xi64>, %y32: tensor<8xi32>)
    -> (tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) {
  // CHECK-NEXT: [[L:%.+]] = mp.cross_entropy [[Z]], [[Y64]] : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>{{$}}
  %0 = mp.cross_entropy %z, %y64 : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
  // CHECK-NEXT: [[LS:%.+]] = mp.cross_entropy [[Z]], [[Y64]] reduction sum : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>{{$}}
  %1 = mp.cross_entropy %z, %y64 reduction sum : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
  // CHECK-NEXT: [[L32:%.+]] = mp.cross_entropy [[Z]], [[Y32]] : (tensor<8x10xf32>, tensor<8xi32>) -> tensor<f32>{{$}}
  %2 = mp.cross_entropy %z, %y32 : (tensor<8x10xf32>, tensor<8xi32>) -> tensor<f32>
  // CHECK-NEXT: [[M32:%.+]] = mp.cross_entropy [[Z]], [[Y32]] : (tensor<8x10xf32>, tensor<8xi32>) -> tensor<f32>{{$}}
  %3 = mp.cross_entropy %z, %y32 reduction mean : (tensor<8x10xf32>, tensor<8xi32>) -> tensor<f32>
  // CHECK-NEXT: return [[L]], [[LS]], [[L32]], [[M32]] : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
  return %0, %1, %2, %3 : tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>
}

// Logits [batch, seq, vocab] with targets [batch, seq]; a rank-1 input is
// one sample, with a rank-0 target.
// CHECK-LABEL: func.func @cross_entropy_ranks(
// CHECK-SAME: [[Z:%arg[0-9]+]]: tensor<2x4x10xbf16>, [[Y:%arg[0-9]+]]: tensor<2x4xi64>, [[Z1:%arg[0-9]+]]: tensor<10xf64>, [[Y1:%arg[0-9]+]]: tensor<i32>)
func.func @cross_entropy_ranks(%z: tensor<2x4x10xbf16>, %y: tensor<2x4xi64>, %z1: tensor<10xf64>, %y1: tensor<i32>)
    -> (tensor<bf16>, tensor<f64>) {
  // CHECK-NEXT: [[L:%.+]] = mp.cross_entropy [[Z]], [[Y]] reduction sum : (tensor<2x4x10xbf16>, tensor<2x4xi64>) -> tensor<bf16>{{$}}
  %0 = mp.cross_entropy %z, %y reduction sum : (tensor<2x4x10xbf16>, tensor<2x4xi64>) -> tensor<bf16>
  // CHECK-NEXT: [[L1:%.+]] = mp.cross_entropy [[Z1]], [[Y1]] : (tensor<10xf64>, tensor<i32>) -> tensor<f64>{{$}}
  %1 = mp.cross_entropy %z1, %y1 : (tensor<10xf64>, tensor<i32>) -> tensor<f64>
  // CHECK-NEXT: return [[L]], [[L1]] : tensor<bf16>, tensor<f64>
  return %0, %1 : tensor<bf16>, tensor<f64>
}

// A whole model with named arguments and result: the ops compose.
// CHECK-LABEL: func.func @mlp(
// CHECK-SAME: [[X:%arg[0-9]+]]: tensor<8x64xf32> {mp.input = "x"}, [[W1:%arg[0-9]+]]: tensor<128x64xf32> {mp.param = "w1"}, [[W2:%arg[0-9]+]]: tensor<10x128xf32> {mp.param = "w2"}, [[Y:%arg[0-9]+]]: tensor<8xi64> {mp.target = "y"})
// CHECK-SAME: -> (tensor<f32> {mp.output = "loss"})
func.func @mlp(%x: tensor<8x64xf32> {mp.input = "x"}, %w1: tensor<128x64xf32> {mp.param = "w1"},
               %w2: tensor<10x128xf32> {mp.param = "w2"}, %y: tensor<8xi64> {mp.target = "y"})
    -> (tensor<f32> {mp.output = "loss"}) {
  // CHECK-NEXT: [[H:%.+]] = mp.linear [[X]], [[W1]] : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>{{$}}
  %h = mp.linear %x, %w1 : (tensor<8x64xf32>, tensor<128x64xf32>) -> tensor<8x128xf32>
  // CHECK-NEXT: [[A:%.+]] = mp.gelu [[H]] tanh : tensor<8x128xf32>{{$}}
  %a = mp.gelu %h tanh : tensor<8x128xf32>
  // CHECK-NEXT: [[Z:%.+]] = mp.linear [[A]], [[W2]] : (tensor<8x128xf32>, tensor<10x128xf32>) -> tensor<8x10xf32>{{$}}
  %z = mp.linear %a, %w2 : (tensor<8x128xf32>, tensor<10x128xf32>) -> tensor<8x10xf32>
  // CHECK-NEXT: [[L:%.+]] = mp.cross_entropy [[Z]], [[Y]] : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>{{$}}
  %l = mp.cross_entropy %z, %y : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
  // CHECK-NEXT: return [[L]] : tensor<f32>
  return %l : tensor<f32>
}
