// saved-dtype=bf16 holds the activations saved for the backward pass in
// bfloat16, rounded where they are made: the forward pass reads one float32
// copy of the rounded value, the backward pass another, made just before its
// first reader; between the passes only the bf16 value lives. What reaches
// no GEMM in the forward pass (the logits, attention's log-sum-exp) stays
// float32.
//
// RUN: mp-opt %s --mp-train-step="precision=bf16 saved-dtype=bf16" | FileCheck %s
// RUN: mp-opt %s --mp-train-step="precision=bf16 saved-dtype=bf16 recompute=full" | FileCheck %s --check-prefix=FULL
// RUN: mp-opt %s --mp-train-step="precision=bf16 saved-dtype=bf16 recompute=op" | FileCheck %s --check-prefix=OP
// RUN: mp-opt %s --mp-train-step="precision=bf16" | FileCheck %s --check-prefix=F32
// RUN: not mp-opt %s --mp-train-step="precision=bf16 saved-dtype=f16" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not mp-opt %s --mp-train-step="saved-dtype=bf16" 2>&1 | FileCheck %s --check-prefix=PRECISION

// CHECK-LABEL: func.func @model_train_step
// CHECK: %[[X0:.+]] = mp.embedding
// CHECK-NEXT: %[[X0H:.+]] = mp.convert %[[X0]] : tensor<2x4x8xf32> -> tensor<2x4x8xbf16>
// CHECK-NEXT: %[[X0F:.+]] = mp.convert %[[X0H]] : tensor<2x4x8xbf16> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[H0:.+]] = mp.rms_norm %[[X0F]]
// CHECK-NEXT: %[[H0H:.+]] = mp.convert %[[H0]] : tensor<2x4x8xf32> -> tensor<2x4x8xbf16>
// CHECK-NEXT: %[[H0F:.+]] = mp.convert %[[H0H]]
// CHECK-NEXT: %[[Y0:.+]] = mp.linear %[[H0F]]
// The residual stream's adds read the rounded values and are rounded.
// CHECK-NEXT: %[[X1:.+]] = mp.add %[[X0F]], %[[Y0]]
// CHECK-NEXT: %[[X1H:.+]] = mp.convert %[[X1]] : tensor<2x4x8xf32> -> tensor<2x4x8xbf16>
// CHECK-NEXT: %[[X1F:.+]] = mp.convert %[[X1H]]
// CHECK-NEXT: %[[H1:.+]] = mp.rms_norm %[[X1F]]
// CHECK-NEXT: %[[H1H:.+]] = mp.convert %[[H1]]
// CHECK-NEXT: %[[H1F:.+]] = mp.convert %[[H1H]]
// Attention's output is rounded, its log-sum-exp is not.
// CHECK-NEXT: %[[A:.+]], %[[LSE:.+]] = mp.attention %[[H1F]], %[[H1F]], %[[H1F]]
// CHECK-NEXT: %[[AH:.+]] = mp.convert %[[A]] : tensor<2x4x8xf32> -> tensor<2x4x8xbf16>
// CHECK-NEXT: %[[AF:.+]] = mp.convert %[[AH]]
// CHECK-NEXT: %[[Y1:.+]] = mp.linear %[[AF]]
// CHECK-NEXT: %[[X2:.+]] = mp.add %[[X1F]], %[[Y1]]
// CHECK-NEXT: %[[X2H:.+]] = mp.convert %[[X2]]
// CHECK-NEXT: %[[X2F:.+]] = mp.convert %[[X2H]]
// The logits, which only the loss reads, stay float32.
// CHECK-NEXT: %[[LOGITS:.+]] = mp.linear %[[X2F]], %{{.+}} precision <bf16> : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
// CHECK-NEXT: mp.cross_entropy %[[LOGITS]]
// CHECK: mp.cross_entropy_grad %[[LOGITS]]
// The backward pass widens each held bf16 value again just before its
// first reader.
// CHECK: %[[X2B:.+]] = mp.convert %[[X2H]] : tensor<2x4x8xbf16> -> tensor<2x4x8xf32>
// CHECK-NEXT: mp.reshape %[[X2B]]
// CHECK: %[[AB:.+]] = mp.convert %[[AH]]
// CHECK-NEXT: mp.reshape %[[AB]]
// CHECK: %[[H1B:.+]] = mp.convert %[[H1H]]
// CHECK-NEXT: mp.attention_grad %[[H1B]], %[[H1B]], %[[H1B]], %[[AB]], %[[LSE]],
// CHECK: %[[X1B:.+]] = mp.convert %[[X1H]]
// CHECK-NEXT: mp.rms_norm_grad %[[X1B]]
// CHECK: %[[H0B:.+]] = mp.convert %[[H0H]]
// CHECK-NEXT: mp.reshape %[[H0B]]
// CHECK: %[[X0B:.+]] = mp.convert %[[X0H]]
// CHECK-NEXT: mp.rms_norm_grad %[[X0B]]
// CHECK: return

// Full recomputation runs each layer again from its held input, the bf16
// value, with the same roundings: the same floats as the forward pass's.
// FULL-LABEL: func.func @model_train_step
// FULL: %[[X1:.+]] = mp.add
// FULL-NEXT: %[[X1H:.+]] = mp.convert %[[X1]] : tensor<2x4x8xf32> -> tensor<2x4x8xbf16>
// FULL: mp.cross_entropy_grad
// FULL: %[[X1B:.+]] = mp.convert %[[X1H]] : tensor<2x4x8xbf16> -> tensor<2x4x8xf32>
// FULL-NEXT: %[[H1:.+]] = mp.rms_norm %[[X1B]]
// FULL-NEXT: %[[H1H:.+]] = mp.convert %[[H1]] : tensor<2x4x8xf32> -> tensor<2x4x8xbf16>
// FULL-NEXT: %[[H1F:.+]] = mp.convert %[[H1H]]
// FULL-NEXT: %[[A:.+]], %[[LSE:.+]] = mp.attention %[[H1F]], %[[H1F]], %[[H1F]]
// FULL-NEXT: %[[AH:.+]] = mp.convert %[[A]]
// FULL-NEXT: %[[AF:.+]] = mp.convert %[[AH]]
// FULL: mp.attention_grad %[[H1F]], %[[H1F]], %[[H1F]], %[[AF]], %[[LSE]],
// FULL: mp.rms_norm_grad %[[X1B]]
// FULL: return

// By op, attention's output is held: as bf16, the backward pass widens the
// forward's rounding, no float32 value is kept to round again.
// OP-LABEL: func.func @model_train_step
// OP: %[[A:.+]], %[[LSE:.+]] = mp.attention
// OP-NEXT: %[[AH:.+]] = mp.convert %[[A]] : tensor<2x4x8xf32> -> tensor<2x4x8xbf16>
// OP: mp.cross_entropy_grad
// OP-NOT: mp.convert %[[A]]
// OP: %[[AB:.+]] = mp.convert %[[AH]] : tensor<2x4x8xbf16> -> tensor<2x4x8xf32>
// OP: mp.attention_grad {{.*}}, %[[AB]], %[[LSE]],
// OP: return

// Without the option nothing is converted.
// F32-LABEL: func.func @model_train_step
// F32-NOT: mp.convert
// F32: return

// A value another layer reads is rounded though the backward pass reads
// only its layout (sequence parallelism's, of a layer's input): full
// recomputation runs the layer again from it. The layout lays out the bf16
// value, so one copy is held.
// CHECK-LABEL: func.func @sp_train_step
// CHECK: %[[X1:.+]] = mp.add
// CHECK-NEXT: %[[X1H:.+]] = mp.convert %[[X1]] : tensor<2x4x8xf32> -> tensor<2x4x8xbf16>
// CHECK-NEXT: %[[X1F:.+]] = mp.convert %[[X1H]] : tensor<2x4x8xbf16> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[X1S:.+]] = mp.annotate %[[X1H]] <@mesh, {{\[\[\], \[tp\], \[\]\]}}> entry "layers.*.norm" : tensor<2x4x8xbf16>
// CHECK-NEXT: %[[X1SF:.+]] = mp.convert %[[X1S]] : tensor<2x4x8xbf16> -> tensor<2x4x8xf32>
// CHECK-NEXT: mp.rms_norm %[[X1SF]]
// CHECK: mp.add %[[X1F]],
// CHECK: %[[X1SB:.+]] = mp.convert %[[X1S]] : tensor<2x4x8xbf16> -> tensor<2x4x8xf32>
// CHECK-NEXT: mp.rms_norm_grad %[[X1SB]]
// CHECK: return

// BAD: error: unknown saved-dtype 'f16'; expected f32 or bf16
// PRECISION: error: saved-dtype=bf16 needs precision=bf16 (the activations of a bf16 forward pass)

// ALiBi's slopes, which mp.alibi_slopes makes from its attributes alone,
// are no activation: both layers and both gradients read them float32.
// CHECK-LABEL: func.func @alibi_train_step
// CHECK: %[[SLOPES:.+]] = mp.alibi_slopes : tensor<6xf32>
// CHECK-NOT: mp.convert %[[SLOPES]]
// CHECK: mp.attention %{{.+}}, %{{.+}}, %{{.+}} alibi %[[SLOPES]] scale
// CHECK: mp.attention %{{.+}}, %{{.+}}, %{{.+}} alibi %[[SLOPES]] scale
// CHECK: mp.attention_grad {{.+}} alibi %[[SLOPES]] scale
// CHECK: mp.attention_grad {{.+}} alibi %[[SLOPES]] scale

func.func @model(%emb: tensor<16x8xf32> {mp.param = "tok_embeddings.weight"},
                 %n0: tensor<8xf32> {mp.param = "layers.0.norm.weight"},
                 %w0: tensor<8x8xf32> {mp.param = "layers.0.w.weight"},
                 %n1: tensor<8xf32> {mp.param = "layers.1.norm.weight"},
                 %w1: tensor<8x8xf32> {mp.param = "layers.1.w.weight"},
                 %head: tensor<16x8xf32> {mp.param = "output.weight"},
                 %tokens: tensor<2x4xi64> {mp.input = "tokens"},
                 %labels: tensor<2x4xi64> {mp.target = "labels"}) -> tensor<f32> {
  %x0 = mp.embedding %tokens, %emb : (tensor<2x4xi64>, tensor<16x8xf32>) -> tensor<2x4x8xf32>
  %h0 = mp.rms_norm %x0, %n0 eps 1.0e-05 : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %y0 = mp.linear %h0, %w0 : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
  %x1 = mp.add %x0, %y0 : tensor<2x4x8xf32>
  %h1 = mp.rms_norm %x1, %n1 eps 1.0e-05 : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %a, %lse = mp.attention %h1, %h1, %h1 scale 0.5 causal : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4xf32>)
  %y1 = mp.linear %a, %w1 : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
  %x2 = mp.add %x1, %y1 : tensor<2x4x8xf32>
  %logits = mp.linear %x2, %head : (tensor<2x4x8xf32>, tensor<16x8xf32>) -> tensor<2x4x16xf32>
  %loss = mp.cross_entropy %logits, %labels : (tensor<2x4x16xf32>, tensor<2x4xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}

mp.mesh @mesh = <tp = 2>

func.func @sp(%n0: tensor<8xf32> {mp.param = "layers.0.norm.weight"},
              %w0: tensor<8x8xf32> {mp.param = "layers.0.w.weight"},
              %n1: tensor<8xf32> {mp.param = "layers.1.norm.weight"},
              %w1: tensor<8x8xf32> {mp.param = "layers.1.w.weight"},
              %x: tensor<2x4x8xf32> {mp.input = "x"}) -> tensor<f32> {
  %x0 = mp.annotate %x <@mesh, [[], [tp], []]> entry "layers.*.norm" : tensor<2x4x8xf32>
  %h0 = mp.rms_norm %x0, %n0 eps 1.0e-05 : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %y0 = mp.linear %h0, %w0 : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
  %x1 = mp.add %x, %y0 : tensor<2x4x8xf32>
  %x1s = mp.annotate %x1 <@mesh, [[], [tp], []]> entry "layers.*.norm" : tensor<2x4x8xf32>
  %h1 = mp.rms_norm %x1s, %n1 eps 1.0e-05 : (tensor<2x4x8xf32>, tensor<8xf32>) -> tensor<2x4x8xf32>
  %y1 = mp.linear %h1, %w1 : (tensor<2x4x8xf32>, tensor<8x8xf32>) -> tensor<2x4x8xf32>
  %x2 = mp.add %x1, %y1 : tensor<2x4x8xf32>
  %loss = mp.sum %x2 : tensor<2x4x8xf32> -> tensor<f32>
  return %loss : tensor<f32>
}

func.func @alibi(%q0: tensor<1x6x4x8xf32> {mp.param = "layers.0.q"}, %q1: tensor<1x6x4x8xf32> {mp.param = "layers.1.q"}, %t: tensor<1x6x4x8xf32> {mp.target = "t"}) -> tensor<f32> {
  %slopes = mp.alibi_slopes : tensor<6xf32>
  %o0, %l0 = mp.attention %q0, %q0, %q0 alibi %slopes scale 0.5 causal : (tensor<1x6x4x8xf32>, tensor<1x6x4x8xf32>, tensor<1x6x4x8xf32>, tensor<6xf32>) -> (tensor<1x6x4x8xf32>, tensor<1x6x4xf32>)
  %o1, %l1 = mp.attention %o0, %q1, %q1 alibi %slopes scale 0.5 causal : (tensor<1x6x4x8xf32>, tensor<1x6x4x8xf32>, tensor<1x6x4x8xf32>, tensor<6xf32>) -> (tensor<1x6x4x8xf32>, tensor<1x6x4xf32>)
  %loss = mp.mse_loss %o1, %t : (tensor<1x6x4x8xf32>, tensor<1x6x4x8xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}
