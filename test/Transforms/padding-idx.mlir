// nn.Embedding's padding_idx: the lookups of the pad token add nothing to the
// table's gradient. Autodiff masks their gradient rows (mp.target_mask of the
// ids, spread over the row) before mp.embedding_grad sums them; partitioned
// over the vocabulary, the mask is taken on the global ids and each rank's
// local lookup drops the attribute (row 3 of the table is not a row of every
// rank's piece).
//
// RUN: mp-opt %s --mp-train-step="optimizer=sgd lr=1 weight-decay=0" | FileCheck %s
// RUN: mp-opt %s --mp-apply-plan --mp-train-step="optimizer=sgd lr=1 weight-decay=0" --mp-spmd --mp-verify-gradient-sync | FileCheck %s --check-prefix=SPMD

module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel,
                                      styles = {tok = rowwise}>} {
  mp.mesh @mesh = <data_parallel = 1, tensor_parallel = 2>
  func.func @lookup(%ids: tensor<2x4xi64> {mp.input = "ids"},
                    %table: tensor<6x8xf32> {mp.param = "tok"}) -> tensor<f32> {
    %h = mp.embedding %ids, %table padding_idx 3 : (tensor<2x4xi64>, tensor<6x8xf32>) -> tensor<2x4x8xf32>
    %sq = mp.mul %h, %h : tensor<2x4x8xf32>
    %loss = mp.sum %sq : tensor<2x4x8xf32> -> tensor<f32>
    return %loss : tensor<f32>
  }
}

// CHECK-LABEL: func.func @lookup_train_step(
// CHECK-SAME: %[[TABLE:[^:]+]]: tensor<6x8xf32> {mp.param = "tok"}, %[[IDS:[^:]+]]: tensor<2x4xi64>
// CHECK: mp.embedding %[[IDS]], %[[TABLE]] padding_idx 3 :
// CHECK: %[[GRAD:.+]] = mp.add
// CHECK-NEXT: %[[KEPT:.+]] = mp.target_mask %[[IDS]] ignore_index 3 : tensor<2x4xi64> -> tensor<2x4xf32>
// CHECK-NEXT: %[[SPREAD:.+]] = mp.broadcast %[[KEPT]] dims [2] : tensor<2x4xf32> -> tensor<2x4x8xf32>
// CHECK-NEXT: %[[MASKED:.+]] = mp.mul %[[GRAD]], %[[SPREAD]] : tensor<2x4x8xf32>
// CHECK-NEXT: mp.embedding_grad %[[IDS]], %[[MASKED]] like %[[TABLE]]

// SPMD-LABEL: func.func @lookup_train_step(
// SPMD-SAME: %[[TABLE:[^:]+]]: tensor<3x8xf32> {mp.param = "tok"{{.*}}, %[[IDS:[^:]+]]: tensor<2x4xi64>
// SPMD: %[[LOCAL:.+]] = mp.localize_index %[[IDS]] on @mesh axes ["tensor_parallel"] extent 6
// SPMD-NEXT: mp.embedding %[[LOCAL]], %[[TABLE]] : (tensor<2x4xi64>, tensor<3x8xf32>) -> tensor<2x4x8xf32>
// SPMD: %[[KEPT:.+]] = mp.target_mask %[[IDS]] ignore_index 3
// SPMD-NEXT: %[[SPREAD:.+]] = mp.broadcast %[[KEPT]] dims [2]
// SPMD-NEXT: %[[MASKED:.+]] = mp.mul %{{.+}}, %[[SPREAD]]
// SPMD-NEXT: %[[SUMMED:.+]] = mp.all_reduce %[[MASKED]] on @mesh axes ["tensor_parallel"]
// SPMD-NEXT: %[[LOCAL_IDS:.+]] = mp.localize_index %[[IDS]]
// SPMD-NEXT: mp.embedding_grad %[[LOCAL_IDS]], %[[SUMMED]] like %[[TABLE]]
