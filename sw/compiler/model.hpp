// The model description a user hands the compiler (docs/compiler.md): layer widths and
// activations, loss, minibatch size, learning rate, rounding, loss scaling, epochs,
// initialisation and dataset paths, read from JSON with nlohmann-json.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace tpu::compiler {

enum class Activation { kIdentity, kRelu, kLeakyRelu };

struct LayerSpec {
  int units = 0;
  Activation activation = Activation::kLeakyRelu;
  int leak_shift = 2;  // leaky-ReLU slope 2^-leak_shift
};

enum class Rounding { kNearest, kStochastic };

struct TrainingSpec {
  int batch = 0;              // rows per minibatch (any size >= 1)
  double learning_rate = 0;   // of the MSE loss (1/B) sum (H - Y)^2
  Rounding rounding = Rounding::kStochastic;
  int loss_scale_log2 = -1;   // -1: the largest the vector unit allows
  int epochs = 1;
  int eval_every = 1;         // epochs between two syncs (predictions read by the host)
  uint32_t sgd_seed = 1;      // seeds the update's LFSRs (stochastic rounding)
};

struct InitSpec {
  uint64_t seed = 1;
  double scale = 0;  // uniform(-scale, scale); 0: 1/sqrt(fan_in) per layer
};

enum class Targets { kOneHot, kValues };

struct DataSpec {
  std::string train;            // CSV: features, then the label (one_hot) or the targets
  std::string test;             // optional
  Targets targets = Targets::kOneHot;
  double feature_scale = 1.0;   // every feature is multiplied by this when loaded
};

struct Model {
  std::string name = "model";
  std::string source;  // the file it was read from ("" when built in code)
  int inputs = 0;
  std::vector<LayerSpec> layers;
  TrainingSpec training;
  InitSpec init;
  DataSpec data;
  std::string dir;  // folder of the model file: relative dataset paths start here
};

// A malformed or inconsistent model file. what() is one line: "file:line:col: message"
// for a JSON syntax error, "file: field 'a.b': message" for a bad field.
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Model parse_model(const std::string& text, const std::string& filename);
Model load_model(const std::string& path);
void validate(const Model& m, const std::string& filename);

const char* to_string(Activation a);

}  // namespace tpu::compiler
