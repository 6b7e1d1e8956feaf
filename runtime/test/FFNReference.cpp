//===- FFNReference.cpp - a float64 reference of the FFN training step ----===//
//
//   mp-ffn-reference --init INIT.safetensors --data DATA.safetensors
//       --steps N [--optimizer adamw|sgd] [--lr LR] [--weight-decay WD]
//       [--beta1 B1 --beta2 B2 --eps EPS] [--momentum M] [--grad-scale S]
//       [--precision fp32|bf16] [--save OUT.safetensors]
//
// The whole compiler chain is checked against this program, so it shares
// none of the compiler's code: plain loops in double precision, gradients
// derived by hand, and the optimizers written out as torch.optim (1.13)
// computes them. The model is the FeedForward of PyTorch Lightning's
// ModelParallelStrategy example, without biases:
//
//   out = w2(silu(w1 x) * (w3 x)),  loss = out.sum()
//
// with x [batch, dim], w1 and w3 [hidden, dim], w2 [dim, hidden] (the
// nn.Linear layout [out, in]: y = x Wᵀ). INIT holds F32 "w1", "w2", "w3";
// DATA holds F32 "x" [steps, batch, dim], and step i trains on x[i]. Each
// step prints "step <i> loss <loss>"; --save writes the final weights as
// F32. With --precision bf16 every operand of a GEMM (a product summed over
// a contracted dim, in the forward and the backward pass) is first rounded
// to float32, then to bfloat16's 8 significant bits (ties to even), as
// mp's `precision=bf16` steps multiply.
//
//===----------------------------------------------------------------------===//

#include "SafeTensors.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

// Tensor bytes are little-endian in the file and read by memcpy here.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "mp-ffn-reference reads tensors on little-endian hosts only");

using mp::train::Tensor;

namespace {

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "mp-ffn-reference: %s\n", message.c_str());
  std::exit(1);
}

struct Options {
  std::string init, data, save;
  long long steps = -1;
  std::string optimizer = "adamw";
  double lr = 1e-3;
  // Unset means the optimizer's default: 0.01 for AdamW, 0 for SGD.
  bool weightDecayGiven = false;
  double weightDecay = 0;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double momentum = 0;
  double gradScale = 1;
  bool bf16 = false;
};

double parseNumber(const std::string &flag, const char *text) {
  char *end = nullptr;
  errno = 0;
  double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || errno == ERANGE || !std::isfinite(value))
    fail(flag + " expects a finite number, got '" + text + "'");
  return value;
}

Options parseOptions(int argc, char **argv) {
  static const char *usage =
      "usage: mp-ffn-reference --init INIT.safetensors --data "
      "DATA.safetensors --steps N [--optimizer adamw|sgd] [--lr LR] "
      "[--weight-decay WD] [--beta1 B1 --beta2 B2 --eps EPS] [--momentum M] "
      "[--grad-scale S] [--precision fp32|bf16] [--save OUT.safetensors]";
  static const std::set<std::string> adamFlags = {"--beta1", "--beta2",
                                                  "--eps"};
  static const std::set<std::string> sgdFlags = {"--momentum"};
  Options options;
  std::set<std::string> given;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf("%s\n", usage);
      std::exit(0);
    }
    if (flag.rfind("--", 0) != 0)
      fail("unexpected argument '" + flag + "'\n" + usage);
    if (i + 1 >= argc)
      fail(flag + " needs a value\n" + usage);
    if (!given.insert(flag).second)
      fail(flag + " is given twice");
    const char *value = argv[++i];
    if (flag == "--init") {
      options.init = value;
    } else if (flag == "--data") {
      options.data = value;
    } else if (flag == "--save") {
      options.save = value;
    } else if (flag == "--optimizer") {
      options.optimizer = value;
      if (options.optimizer != "adamw" && options.optimizer != "sgd")
        fail("--optimizer must be adamw or sgd, got '" + options.optimizer +
             "'");
    } else if (flag == "--steps") {
      char *end = nullptr;
      errno = 0;
      options.steps = std::strtoll(value, &end, 10);
      if (end == value || *end != '\0' || errno == ERANGE || options.steps < 0)
        fail(std::string("--steps expects a non-negative integer, got '") +
             value + "'");
    } else if (flag == "--lr") {
      options.lr = parseNumber(flag, value);
    } else if (flag == "--weight-decay") {
      options.weightDecay = parseNumber(flag, value);
      options.weightDecayGiven = true;
    } else if (flag == "--beta1") {
      options.beta1 = parseNumber(flag, value);
    } else if (flag == "--beta2") {
      options.beta2 = parseNumber(flag, value);
    } else if (flag == "--eps") {
      options.eps = parseNumber(flag, value);
    } else if (flag == "--momentum") {
      options.momentum = parseNumber(flag, value);
    } else if (flag == "--precision") {
      if (std::string(value) != "fp32" && std::string(value) != "bf16")
        fail(std::string("--precision must be fp32 or bf16, got '") + value +
             "'");
      options.bf16 = std::string(value) == "bf16";
    } else if (flag == "--grad-scale") {
      options.gradScale = parseNumber(flag, value);
    } else {
      fail("unknown option '" + flag + "'\n" + usage);
    }
  }
  if (options.init.empty() || options.data.empty() || options.steps < 0)
    fail(std::string("--init, --data and --steps are required\n") + usage);

  // A flag the chosen optimizer ignores is a mistake in the command line,
  // not something to run on silently.
  bool adamw = options.optimizer == "adamw";
  for (const std::string &flag : adamw ? sgdFlags : adamFlags)
    if (given.count(flag))
      fail(flag + " does not apply to --optimizer " + options.optimizer);
  if (!options.weightDecayGiven)
    options.weightDecay = adamw ? 0.01 : 0.0;

  // The checks torch.optim makes on the same hyperparameters.
  if (options.lr < 0)
    fail("--lr must not be negative");
  if (options.weightDecay < 0)
    fail("--weight-decay must not be negative");
  if (adamw && (options.beta1 < 0 || options.beta1 >= 1))
    fail("--beta1 must be in [0, 1)");
  if (adamw && (options.beta2 < 0 || options.beta2 >= 1))
    fail("--beta2 must be in [0, 1)");
  if (adamw && options.eps < 0)
    fail("--eps must not be negative");
  if (!adamw && options.momentum < 0)
    fail("--momentum must not be negative");
  return options;
}

// A row-major matrix of doubles.
struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<double> data;

  Matrix() = default;
  Matrix(int64_t rows, int64_t cols)
      : rows(rows), cols(cols), data(rows * cols, 0.0) {}
  double &operator()(int64_t r, int64_t c) { return data[r * cols + c]; }
  double operator()(int64_t r, int64_t c) const { return data[r * cols + c]; }
};

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

std::map<std::string, Tensor> readFile(const std::string &path) {
  std::map<std::string, Tensor> tensors;
  std::string error;
  if (!mp::train::readSafeTensors(path, tensors, error))
    fail(error);
  return tensors;
}

// The F32 tensor `name` of `file`, of shape `shape`; exits naming the tensor
// otherwise. A negative dim in `shape` matches any size.
const Tensor &requireTensor(const std::map<std::string, Tensor> &tensors,
                            const std::string &file, const std::string &name,
                            const std::vector<int64_t> &shape,
                            const std::string &meaning) {
  auto it = tensors.find(name);
  if (it == tensors.end())
    fail(file + ": no tensor '" + name + "' (" + meaning + ")");
  const Tensor &tensor = it->second;
  if (tensor.dtype != "F32")
    fail(file + ": tensor '" + name + "' is " + tensor.dtype +
         ", expected F32");
  bool matches = tensor.shape.size() == shape.size();
  for (size_t i = 0; matches && i < shape.size(); ++i)
    matches = shape[i] < 0 || tensor.shape[i] == shape[i];
  if (!matches) {
    std::string expected = "[";
    for (size_t i = 0; i < shape.size(); ++i)
      expected += (i ? ", " : "") +
                  (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
    fail(file + ": tensor '" + name + "' has shape " +
         shapeString(tensor.shape) + ", expected " + expected + "] (" +
         meaning + ")");
  }
  return tensor;
}

// Elements [offset, offset + rows * cols) of an F32 tensor, widened.
Matrix toMatrix(const Tensor &tensor, int64_t rows, int64_t cols,
                int64_t offset = 0) {
  Matrix matrix(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) {
    float value;
    std::memcpy(&value, tensor.bytes.data() + (offset + i) * sizeof(float),
                sizeof(float));
    matrix.data[i] = value;
  }
  return matrix;
}

Tensor toF32Tensor(const Matrix &matrix) {
  Tensor tensor;
  tensor.dtype = "F32";
  tensor.shape = {matrix.rows, matrix.cols};
  tensor.bytes.resize(matrix.data.size() * sizeof(float));
  for (size_t i = 0; i < matrix.data.size(); ++i) {
    float value = static_cast<float>(matrix.data[i]);
    std::memcpy(tensor.bytes.data() + i * sizeof(float), &value, sizeof(float));
  }
  return tensor;
}

enum Weight { W1, W2, W3, NumWeights };
const char *const weightNames[NumWeights] = {"w1", "w2", "w3"};

// A GEMM operand as the step's precision reads it: as it is in fp32 mode;
// in bf16 mode as float32 rounded to 8 significant bits (nearbyint: ties to
// even).
double gemmOperand(double value, bool bf16) {
  if (!bf16)
    return value;
  float single = static_cast<float>(value);
  if (single == 0 || !std::isfinite(single))
    return single;
  double scale = std::ldexp(1.0, 7 - std::ilogb(single));
  return std::nearbyint(single * scale) / scale;
}

// Forward and backward of one step on x [batch, dim]: returns the loss and
// sets `grads` to its gradients with respect to w1, w2, w3.
double lossAndGradients(const Matrix (&weights)[NumWeights], const Matrix &x,
                        Matrix (&grads)[NumWeights], bool bf16) {
  auto in = [bf16](double value) { return gemmOperand(value, bf16); };
  const Matrix &w1 = weights[W1], &w2 = weights[W2], &w3 = weights[W3];
  int64_t batch = x.rows, dim = x.cols, hidden = w1.rows;

  // a = x w1ᵀ, c = x w3ᵀ, s = sigmoid(a), g = silu(a) = a s, h = g * c.
  Matrix a(batch, hidden), c(batch, hidden), s(batch, hidden), g(batch, hidden),
      h(batch, hidden);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t k = 0; k < hidden; ++k) {
      double sumA = 0, sumC = 0;
      for (int64_t d = 0; d < dim; ++d) {
        sumA += in(x(b, d)) * in(w1(k, d));
        sumC += in(x(b, d)) * in(w3(k, d));
      }
      a(b, k) = sumA;
      c(b, k) = sumC;
      s(b, k) = 1 / (1 + std::exp(-sumA));
      g(b, k) = sumA * s(b, k);
      h(b, k) = g(b, k) * sumC;
    }
  // out = h w2ᵀ, loss = sum of out.
  double loss = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t d = 0; d < dim; ++d) {
      double out = 0;
      for (int64_t k = 0; k < hidden; ++k)
        out += in(h(b, k)) * in(w2(d, k));
      loss += out;
    }

  // dloss/dout is 1 everywhere, so
  //   dw2[d][k] = sum_b h[b][k]         dh[b][k] = sum_d w2[d][k]
  //   dc = dh * g                       dg = dh * c
  //   da = dg * silu'(a), silu'(a) = s (1 + a (1 - s))
  //   dw1 = daᵀ x                       dw3 = dcᵀ x
  grads[W1] = Matrix(hidden, dim);
  grads[W2] = Matrix(dim, hidden);
  grads[W3] = Matrix(hidden, dim);
  std::vector<double> dh(hidden, 0.0);
  for (int64_t k = 0; k < hidden; ++k)
    for (int64_t d = 0; d < dim; ++d)
      dh[k] += in(w2(d, k));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t k = 0; k < hidden; ++k) {
      for (int64_t d = 0; d < dim; ++d)
        grads[W2](d, k) += in(h(b, k));
      double dc = dh[k] * g(b, k);
      double da = dh[k] * c(b, k) * s(b, k) * (1 + a(b, k) * (1 - s(b, k)));
      for (int64_t d = 0; d < dim; ++d) {
        grads[W1](k, d) += in(da)*in(x(b, d));
        grads[W3](k, d) += in(dc)*in(x(b, d));
      }
    }
  return loss;
}

// torch.optim.AdamW's single-tensor update (amsgrad off), step by step in
// the same order and with the same formulas.
struct AdamW {
  explicit AdamW(const Options &options)
      : lr(options.lr), beta1(options.beta1), beta2(options.beta2),
        eps(options.eps), weightDecay(options.weightDecay) {}

  double lr, beta1, beta2, eps, weightDecay;
  Matrix m[NumWeights], v[NumWeights];
  long long t = 0;

  void step(Matrix (&weights)[NumWeights], const Matrix (&grads)[NumWeights]) {
    ++t;
    double biasCorrection1 = 1 - std::pow(beta1, static_cast<double>(t));
    double biasCorrection2 = 1 - std::pow(beta2, static_cast<double>(t));
    double stepSize = lr / biasCorrection1;
    double biasCorrection2Sqrt = std::sqrt(biasCorrection2);
    for (int w = 0; w < NumWeights; ++w) {
      if (t == 1) {
        m[w] = Matrix(weights[w].rows, weights[w].cols);
        v[w] = Matrix(weights[w].rows, weights[w].cols);
      }
      for (size_t i = 0; i < weights[w].data.size(); ++i) {
        double &p = weights[w].data[i];
        double grad = grads[w].data[i];
        p *= 1 - lr * weightDecay;
        m[w].data[i] = m[w].data[i] * beta1 + (1 - beta1) * grad;
        v[w].data[i] = v[w].data[i] * beta2 + (1 - beta2) * grad * grad;
        double denom = std::sqrt(v[w].data[i]) / biasCorrection2Sqrt + eps;
        p += -stepSize * m[w].data[i] / denom;
      }
    }
  }
};

// torch.optim.SGD's update (dampening 0, no Nesterov): the momentum buffer
// starts as the first step's gradient.
struct Sgd {
  explicit Sgd(const Options &options)
      : lr(options.lr), momentum(options.momentum),
        weightDecay(options.weightDecay) {}

  double lr, momentum, weightDecay;
  Matrix buffer[NumWeights];
  bool started = false;

  void step(Matrix (&weights)[NumWeights], const Matrix (&grads)[NumWeights]) {
    for (int w = 0; w < NumWeights; ++w) {
      if (momentum != 0 && !started)
        buffer[w] = Matrix(weights[w].rows, weights[w].cols);
      for (size_t i = 0; i < weights[w].data.size(); ++i) {
        double &p = weights[w].data[i];
        double d = grads[w].data[i] + weightDecay * p;
        if (momentum != 0) {
          double &b = buffer[w].data[i];
          b = started ? b * momentum + d : d;
          d = b;
        }
        p += -lr * d;
      }
    }
    started = true;
  }
};

} // namespace

int main(int argc, char **argv) {
  Options options = parseOptions(argc, argv);

  std::map<std::string, Tensor> init = readFile(options.init);
  const Tensor &w1 =
      requireTensor(init, options.init, "w1", {-1, -1}, "w1 is [hidden, dim]");
  int64_t hidden = w1.shape[0], dim = w1.shape[1];
  std::string dims = "hidden " + std::to_string(hidden) + ", dim " +
                     std::to_string(dim) + " from w1";
  const Tensor &w2 = requireTensor(init, options.init, "w2", {dim, hidden},
                                   "w2 is [dim, hidden]; " + dims);
  const Tensor &w3 = requireTensor(init, options.init, "w3", {hidden, dim},
                                   "w3 is [hidden, dim]; " + dims);

  std::map<std::string, Tensor> data = readFile(options.data);
  const Tensor &x = requireTensor(data, options.data, "x", {-1, -1, dim},
                                  "x is [steps, batch, dim]; " + dims);
  int64_t available = x.shape[0], batch = x.shape[1];
  if (available < options.steps)
    fail(options.data + ": tensor 'x' holds " + std::to_string(available) +
         " steps of data, --steps asks for " + std::to_string(options.steps));

  Matrix weights[NumWeights] = {toMatrix(w1, hidden, dim),
                                toMatrix(w2, dim, hidden),
                                toMatrix(w3, hidden, dim)};
  AdamW adamw(options);
  Sgd sgd(options);
  for (long long i = 0; i < options.steps; ++i) {
    Matrix grads[NumWeights];
    double loss = lossAndGradients(
        weights, toMatrix(x, batch, dim, i * batch * dim), grads, options.bf16);
    for (Matrix &grad : grads)
      for (double &value : grad.data)
        value *= options.gradScale;
    std::printf("step %lld loss %.9g\n", i, loss);
    if (options.optimizer == "adamw")
      adamw.step(weights, grads);
    else
      sgd.step(weights, grads);
  }

  if (!options.save.empty()) {
    std::vector<std::pair<std::string, Tensor>> out;
    for (int w = 0; w < NumWeights; ++w)
      out.emplace_back(weightNames[w], toF32Tensor(weights[w]));
    std::string error;
    if (!mp::train::writeSafeTensors(options.save, out, error))
      fail(error);
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}
