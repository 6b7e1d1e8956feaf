// RUN: mp-opt %s -split-input-file --mp-apply-plan -verify-diagnostics

// expected-error@+1 {{no plan: give the module an 'mp.plan' attribute or pass a plan file (--mp-apply-plan=plan.json)}}
module {
  func.func private @model(tensor<8x8xf32> {mp.param = "w"})
}

// -----

// A key that styles nothing lists the names within a third of its length
// in edits.
// expected-error@+1 {{plan entry 'w9' matches no parameter, module, input or output; close names: w1}}
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {w1 = colwise, w9 = rowwise}>} {
  mp.mesh @mesh = <tp = 2>
  func.func private @model(tensor<8x8xf32> {mp.input = "x"}, tensor<8x8xf32> {mp.param = "w1"})
}

// -----

// With no close name, it lists every name.
// expected-error@+1 {{plan entry 'layers.*.w1' matches no parameter, module, input or output; the model has: layers.0.mlp.w1}}
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {"layers.*.w1" = colwise}>} {
  mp.mesh @mesh = <tp = 2>
  func.func private @model(tensor<8x8xf32> {mp.param = "layers.0.mlp.w1"})
}

// -----

// A key names a parameter or a module (whose `.weight` and `.bias` it
// styles): `fc4` is neither, and the modules are among the close names.
// expected-error@+1 {{plan entry 'fc4' matches no parameter, module, input or output; close names: fc1, fc2}}
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {fc1 = colwise, fc4 = rowwise}>} {
  mp.mesh @mesh = <tp = 2>
  func.func private @model(tensor<8x8xf32> {mp.input = "x"},
                           tensor<8x8xf32> {mp.param = "fc1.weight"}, tensor<8xf32> {mp.param = "fc1.bias"},
                           tensor<8x8xf32> {mp.param = "fc2.weight"}, tensor<8xf32> {mp.param = "fc2.bias"})
}

// -----

// With no close name: every name, then the modules.
// expected-error@+1 {{plan entry 'attention' matches no parameter, module, input or output; the model has: x, fc1.weight, fc1.bias, norm.scale; modules: fc1}}
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {attention = colwise}>} {
  mp.mesh @mesh = <tp = 2>
  func.func private @model(tensor<8x8xf32> {mp.input = "x"},
                           tensor<8x8xf32> {mp.param = "fc1.weight"}, tensor<8xf32> {mp.param = "fc1.bias"},
                           tensor<8xf32> {mp.param = "norm.scale"})
}

// -----

// Only a module's `.weight` and `.bias` are its parameters.
// expected-error@+1 {{plan entry 'norm' matches no parameter, module, input or output; the model has: norm.scale}}
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {norm = replicate}>} {
  mp.mesh @mesh = <tp = 2>
  func.func private @model(tensor<8xf32> {mp.param = "norm.scale"})
}

// -----

// A module key's style must fit each of the module's parameters.
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {fc1 = sequence_parallel}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @model(
      // expected-error@+1 {{plan entry 'fc1' (sequence_parallel) cannot apply to parameter 'fc1.weight' of type 'tensor<8x8xf32>': sequence_parallel splits activations; it applies to inputs, targets, outputs and norms}}
      %w: tensor<8x8xf32> {mp.param = "fc1.weight"},
      // expected-error@+1 {{plan entry 'fc1' (sequence_parallel) cannot apply to parameter 'fc1.bias' of type 'tensor<8xf32>'}}
      %b: tensor<8xf32> {mp.param = "fc1.bias"}) {
    return
  }
}

// -----

// Globs matching a parameter's module must agree too.
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {"layers.*.wq" = colwise, "*.0.*" = rowwise}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @model(
      // expected-error@+1 {{plan entries '*.0.*' and 'layers.*.wq' both match module 'layers.0.wq' with different styles}}
      %w: tensor<8x8xf32> {mp.param = "layers.0.wq.weight"}) {
    return
  }
}

// -----

module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {w = colwise}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @model(
      // expected-error@+1 {{plan entry 'w' (colwise) cannot apply to parameter 'w' of type 'tensor<2x8x8xf32>': it needs an [out, in] weight (rank 2) or a bias (rank 1), not rank 3}}
      %w: tensor<2x8x8xf32> {mp.param = "w"}) {
    return
  }
}

// -----

module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {x = rowwise}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @model(
      // expected-error@+1 {{plan entry 'x' (rowwise) cannot apply to input 'x' of type 'tensor<8x8xf32>': rowwise shards the weight of a linear layer, so it applies to parameters only}}
      %x: tensor<8x8xf32> {mp.input = "x"}) {
    return
  }
}

// -----

module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {w = sequence_parallel}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @model(
      // expected-error@+1 {{plan entry 'w' (sequence_parallel) cannot apply to parameter 'w' of type 'tensor<8x8xf32>': sequence_parallel splits activations; it applies to inputs, targets, outputs and norms}}
      %w: tensor<8x8xf32> {mp.param = "w"}) {
    return
  }
}

// -----

// The sum of two parameters scaling a norm is no weight offset: the plan
// does not take either for the norm's weight.

module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {w = sequence_parallel}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @model(%x: tensor<4x8xf32>,
      // expected-error@+1 {{plan entry 'w' (sequence_parallel) cannot apply to parameter 'w' of type 'tensor<8xf32>': sequence_parallel splits activations; it applies to inputs, targets, outputs and norms}}
      %w: tensor<8xf32> {mp.param = "w"}, %v: tensor<8xf32> {mp.param = "v"}) -> tensor<4x8xf32> {
    %scale = mp.add %w, %v : tensor<8xf32>
    %0 = mp.rms_norm %x, %scale eps 1.0e-5 : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
    return %0 : tensor<4x8xf32>
  }
}

// -----

module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {x = sequence_parallel<dim = 2>}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @model(
      // expected-error@+1 {{plan entry 'x' (sequence_parallel) cannot apply to input 'x' of type 'tensor<8x8xf32>': sequence dim 2 is out of range for rank 2}}
      %x: tensor<8x8xf32> {mp.input = "x"}) {
    return
  }
}

// -----

// The default sequence dim of a rank-1 input is out of range too.
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {x = sequence_parallel}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @model(
      // expected-error@+1 {{plan entry 'x' (sequence_parallel) cannot apply to input 'x' of type 'tensor<8xf32>': sequence dim -1 is out of range for rank 1}}
      %x: tensor<8xf32> {mp.input = "x"}) {
    return
  }
}

// -----

module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {"*.w1" = colwise, "layers.*" = rowwise}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @model(
      // expected-error@+1 {{plan entries '*.w1' and 'layers.*' both match 'layers.w1' with different styles}}
      %w: tensor<8x8xf32> {mp.param = "layers.w1"}) {
    return
  }
}

// -----

// Every error is reported before anything is written: the valid entry for
// w1 is not applied either.
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {w1 = colwise, x = colwise}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @model(
      %w1: tensor<8x8xf32> {mp.param = "w1"},
      // expected-error@+1 {{plan entry 'x' (colwise) cannot apply to input 'x'}}
      %x: tensor<8x8xf32> {mp.input = "x"}) {
    return
  }
}

// -----

// A norm named by its mp.module takes sequence_parallel only: a weight
// style on it names no weight.
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {"layers.*.attention_norm" = colwise}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @model(%x: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
    %one = arith.constant dense<1.0> : tensor<16xf32>
    %zero = arith.constant dense<0.0> : tensor<16xf32>
    // expected-error@+1 {{plan entry 'layers.*.attention_norm' styles the norm of module 'layers.0.attention_norm' by its name, which only sequence_parallel does (a norm's weight stays whole)}}
    %0 = mp.layer_norm %x, %one, %zero eps 1.0e-5 {mp.module = "layers.0.attention_norm"} : (tensor<4x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x8x16xf32>
    return %0 : tensor<4x8x16xf32>
  }
}

// -----

// Two globs that match a named norm with different styles: an error at the
// norm naming both.
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {"layers.*.attention_norm" = sequence_parallel, "layers.0.*" = sequence_parallel<dim = 0>}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @model(%x: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
    %one = arith.constant dense<1.0> : tensor<16xf32>
    %zero = arith.constant dense<0.0> : tensor<16xf32>
    // expected-error@+1 {{plan entries 'layers.*.attention_norm' and 'layers.0.*' both match module 'layers.0.attention_norm' with different styles}}
    %0 = mp.layer_norm %x, %one, %zero eps 1.0e-5 {mp.module = "layers.0.attention_norm"} : (tensor<4x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x8x16xf32>
    return %0 : tensor<4x8x16xf32>
  }
}

// -----

// A key that names no module lists the named norms among the close names.
// expected-error@+1 {{plan entry 'layers.*.atention_norm' matches no parameter, module, input or output; close names: layers.0.attention_norm}}
module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tp, styles = {"layers.*.atention_norm" = sequence_parallel}>} {
  mp.mesh @mesh = <tp = 2>
  func.func @model(%x: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
    %one = arith.constant dense<1.0> : tensor<16xf32>
    %zero = arith.constant dense<0.0> : tensor<16xf32>
    %0 = mp.layer_norm %x, %one, %zero eps 1.0e-5 {mp.module = "layers.0.attention_norm"} : (tensor<4x8x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<4x8x16xf32>
    return %0 : tensor<4x8x16xf32>
  }
}
