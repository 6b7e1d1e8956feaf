// The seed's FFN example at its real size, with its 2D plan from the JSON
// file and from IR: both give the same annotated IR and summary.
//
// RUN: mp-opt %mp_src_root/examples/ffn/ffn.mlir --mp-apply-plan=%mp_src_root/examples/ffn/plan.json --mp-summary | FileCheck %s
// RUN: mp-opt %mp_src_root/examples/ffn/ffn-plan-in-ir.mlir --mp-apply-plan --mp-summary | FileCheck %s
// RUN: env MP_BUILD_DIR=%mp_obj_root %mp_src_root/scripts/run-ffn.sh --no-build --backend cuda --no-run --out %t | FileCheck %s --check-prefixes=CHECK,STEP

// CHECK-LABEL: Model summary of @ffn on mesh @mesh <data_parallel = 2, tensor_parallel = 2> (4 ranks)
// CHECK-NEXT: | Name | Op     | Shape     | Params | data_parallel | tensor_parallel | Params per rank
// CHECK-NEXT: ---
// CHECK-NEXT: 0 | w1   | linear | 8192x8192 | 67.1 M | S(0)          | S(0)            | 16.8 M
// CHECK-NEXT: 1 | w2   | linear | 8192x8192 | 67.1 M | S(0)          | S(1)            | 16.8 M
// CHECK-NEXT: 2 | w3   | linear | 8192x8192 | 67.1 M | S(0)          | S(0)            | 16.8 M
// CHECK-NEXT: ---
// CHECK-NEXT: 201 M     Total params
// CHECK-NEXT: 50.3 M    Params per rank
// CHECK-NEXT: 805.306   Total estimated model params size (MB)
// CHECK-NEXT: 201.327   Estimated params size per rank (MB)

// CHECK: module attributes {mp.plan = #mp.plan<mesh = @mesh, tp_axis = tensor_parallel, fsdp_axis = data_parallel, batch_axis = data_parallel, styles = {w1 = colwise, w2 = rowwise, w3 = colwise}>}
// CHECK-NEXT: mp.mesh @mesh = <data_parallel = 2, tensor_parallel = 2>
// CHECK-NEXT: func.func @ffn(%[[X:.+]]: tensor<8x8192xf32> {mp.input = "x", mp.sharding = #mp.sharding<@mesh, {{\[}}[data_parallel], []]>}, %[[W1:.+]]: tensor<8192x8192xf32> {mp.param = "w1", mp.plan_entry = "w1", mp.sharding = #mp.sharding<@mesh, {{\[}}[tensor_parallel, data_parallel], []]>}, %[[W2:.+]]: tensor<8192x8192xf32> {mp.param = "w2", mp.plan_entry = "w2", mp.sharding = #mp.sharding<@mesh, {{\[}}[data_parallel], [tensor_parallel]]>}, %[[W3:.+]]: tensor<8192x8192xf32> {mp.param = "w3", mp.plan_entry = "w3", mp.sharding = #mp.sharding<@mesh, {{\[}}[tensor_parallel, data_parallel], []]>}) -> tensor<f32> {
// CHECK-NEXT: %[[U1:.+]] = mp.annotate %[[W1]] <@mesh, {{\[}}[tensor_parallel], []]> entry "fsdp(data_parallel): w1" : tensor<8192x8192xf32>
// CHECK-NEXT: %[[U2:.+]] = mp.annotate %[[W2]] <@mesh, {{\[}}[], [tensor_parallel]]> entry "fsdp(data_parallel): w2" : tensor<8192x8192xf32>
// CHECK-NEXT: %[[U3:.+]] = mp.annotate %[[W3]] <@mesh, {{\[}}[tensor_parallel], []]> entry "fsdp(data_parallel): w3" : tensor<8192x8192xf32>
// CHECK-NEXT: %[[H1:.+]] = mp.linear %[[X]], %[[U1]] : (tensor<8x8192xf32>, tensor<8192x8192xf32>) -> tensor<8x8192xf32>
// CHECK-NEXT: %[[A:.+]] = mp.silu %[[H1]] : tensor<8x8192xf32>
// CHECK-NEXT: %[[H3:.+]] = mp.linear %[[X]], %[[U3]] : (tensor<8x8192xf32>, tensor<8192x8192xf32>) -> tensor<8x8192xf32>
// CHECK-NEXT: %[[G:.+]] = mp.mul %[[A]], %[[H3]] : tensor<8x8192xf32>
// CHECK-NEXT: %[[OUT:.+]] = mp.linear %[[G]], %[[U2]] : (tensor<8x8192xf32>, tensor<8192x8192xf32>) -> tensor<8x8192xf32>
// CHECK-NEXT: %[[LOSS:.+]] = mp.sum %[[OUT]] : tensor<8x8192xf32> -> tensor<f32>
// CHECK-NEXT: return %[[LOSS]] : tensor<f32>

// The main job goes on to the partitioned training step (AdamW, lr 3e-3):
// FSDP's gathers and ZeRO-3's reduce_scatters on data_parallel, the scalar
// loss reduced once; 3 · 2 · (1/2) · 8192·8192·4/2 bytes = 402653184 on
// data_parallel plus 6 for the loss.
// STEP: Gradient synchronisation: verified
// STEP-NEXT: Collectives of the step:
// STEP-NEXT: mp.all_gather %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "fsdp(data_parallel): w1"
// STEP-NEXT: mp.all_gather %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "fsdp(data_parallel): w2"
// STEP-NEXT: mp.all_gather %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "fsdp(data_parallel): w3"
// STEP-NEXT: mp.reduce_scatter %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "'x' (batch) -> mp.adamw of 'w1'"
// STEP-NEXT: mp.reduce_scatter %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "'x' (batch) -> mp.adamw of 'w2'"
// STEP-NEXT: mp.reduce_scatter %{{.+}} on @mesh axes ["data_parallel"] dim 0 origin "'x' (batch) -> mp.adamw of 'w3'"
// STEP-NEXT: mp.all_reduce %{{.+}} on @mesh axes ["data_parallel", "tensor_parallel"] origin "'x' (batch), 'w2' (rowwise) -> func.return"
// STEP-NEXT: Bytes sent per rank per step (ring algorithm): {{.*}}comm.json
// STEP-NEXT: 402653190
// Persistent per rank: the 3 weight shards (8192·8192·4/4 bytes each), their
// 6 AdamW moments, the step count and the batch shard (4·8192·4 bytes):
// 9 · 16777216 + 4 + 131072 = 604110852.
// STEP-NEXT: Planned memory per rank (bytes): {{.*}}memory.json
// STEP-NEXT: persistent_bytes 604110852
// STEP-NEXT: arena_bytes {{[0-9]+}}
// STEP-NEXT: unpooled_bytes {{[0-9]+}}
// STEP-NEXT: peak_bytes {{[0-9]+}}
// The CUDA context's own block (mp_backend_reserved_bytes: cuBLAS's
// workspace, the partial sums, the fault record) beside the step.
// STEP-NEXT: backend_reserved_bytes 35651840 (the runtime context's, beside the step)
// With --backend cuda the seed's sizes are the default; --no-run stops
// after compiling and linking the step.
// STEP-NEXT: Compiled step: {{.*}}step.o (runtime calls: {{.*}}lowered.mlir, header:
// STEP-NEXT: {{.*}}step.h), linked with the trainer: {{.*}}train
// STEP-NOT: Training on
