// RUN: mp-opt %s -split-input-file -verify-diagnostics
//
// Names reach the manifest (space- and comma-separated), the C header and
// safetensors files: only 1 to 256 characters of [A-Za-z0-9_.:/-] get in
// (docs/sharding.md, "Names"). Each form of injection is refused at the
// function that declares it.

// PyTorch's dotted names, torch-mlir's, and names with : / - pass.
func.func @ordinary(%a: tensor<2xf32> {mp.param = "layers.0.attention.wq.weight"},
                    %b: tensor<2xf32> {mp.param = "p_layers_0_attention_wq_weight"},
                    %c: tensor<2xf32> {mp.input = "data/x:0-a"})
    -> (tensor<2xf32> {mp.output = "out.0"}) {
  return %a : tensor<2xf32>
}

// -----

// expected-error@+1 {{'mp.param' on argument #0: the name 'w 1' is not 1 to 256 characters of [A-Za-z0-9_.:/-]}}
func.func @space(%w: tensor<2xf32> {mp.param = "w 1"}) {
  return
}

// -----

// expected-error@+1 {{the name 'w,1' is not}}
func.func @comma(%w: tensor<2xf32> {mp.param = "w,1"}) {
  return
}

// -----

// expected-error@+1 {{'mp.input' on argument #0: the name 'x"' is not}}
func.func @quote(%x: tensor<2xf32> {mp.input = "x\""}) {
  return
}

// -----

// A newline would start a new manifest entry.
// expected-error@+1 {{'mp.target' on argument #0: the name}}
func.func @newline(%t: tensor<2xi64> {mp.target = "t\0Aarg evil param f32"}) {
  return
}

// -----

// expected-error@+1 {{'mp.state' on argument #0: the name}}
func.func @nul(%s: tensor<2xf32> {mp.state = "w.m\00"}) {
  return
}

// -----

// expected-error@+1 {{'mp.output' on result #0: the name 'out}}
func.func @backslash(%x: tensor<2xf32>) -> (tensor<2xf32> {mp.output = "out\\x"}) {
  return %x : tensor<2xf32>
}

// -----

// expected-error@+1 {{is not 1 to 256 characters}}
func.func @too_long(%w: tensor<2xf32> {mp.param = "wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww"}) {
  return
}
