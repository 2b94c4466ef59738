#include "sw/compiler/model.hpp"

#include <cmath>
#include <fstream>
#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

namespace tpu::compiler {
namespace {

using nlohmann::json;

// Reads one object's fields, naming each by its path ("training.batch") in every error, and
// rejects fields it does not know (a misspelt key is an error, not a silent default).
class Fields {
 public:
  // `known`: every field of this object the format defines; any other is an error, found
  // before a required field is missed (a misspelt key is named as such).
  Fields(const json& j, std::string path, const std::string& file,
         std::initializer_list<const char*> known)
      : j_(j), path_(std::move(path)), file_(file) {
    if (!j_.is_object()) fail(path_.empty() ? "the model" : path_, "must be an object");
    for (const auto& [k, v] : j_.items()) {
      if (std::none_of(known.begin(), known.end(), [&](const char* n) { return k == n; })) {
        fail(name(k), "is not a field of the model format (docs/compiler.md)");
      }
    }
  }
  ~Fields() = default;

  [[noreturn]] void fail(const std::string& field, const std::string& msg) const {
    throw ModelError(file_ + ": field '" + field + "': " + msg);
  }
  std::string name(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  bool has(const std::string& key) const {
    return j_.contains(key) && !j_.at(key).is_null();
  }
  const json& at(const std::string& key) {
    if (!has(key)) fail(name(key), "is required");
    return j_.at(key);
  }
  int integer(const std::string& key, int lo, int hi) {
    const json& v = at(key);
    if (!v.is_number_integer()) fail(name(key), "must be a whole number, not " + v.dump());
    const auto x = v.get<int64_t>();
    if (x < lo || x > hi) {
      fail(name(key), "must be " + std::to_string(lo) + " to " + std::to_string(hi) + ", not " +
                          std::to_string(x));
    }
    return static_cast<int>(x);
  }
  int integer(const std::string& key, int lo, int hi, int def) {
    return has(key) ? integer(key, lo, hi) : def;
  }
  double number(const std::string& key, double lo, double hi) {
    const json& v = at(key);
    if (!v.is_number()) fail(name(key), "must be a number, not " + v.dump());
    const double x = v.get<double>();
    if (!(x >= lo && x <= hi)) {
      std::ostringstream m;
      m << "must be " << lo << " to " << hi << ", not " << x;
      fail(name(key), m.str());
    }
    return x;
  }
  std::string string(const std::string& key) {
    const json& v = at(key);
    if (!v.is_string()) fail(name(key), "must be a string, not " + v.dump());
    return v.get<std::string>();
  }
  std::string choice(const std::string& key, const std::vector<std::string>& options,
                     const std::string& def) {
    if (!has(key)) return def;
    const std::string s = string(key);
    std::string list;
    for (const auto& o : options) {
      if (s == o) return s;
      list += (list.empty() ? "" : ", ") + o;
    }
    fail(name(key), "must be one of " + list + ", not '" + s + "'");
  }

 private:
  const json& j_;
  std::string path_;
  const std::string& file_;
};

Activation parse_activation(Fields& f) {
  const std::string a = f.choice("activation", {"identity", "relu", "leaky_relu"}, "leaky_relu");
  if (a == "identity") return Activation::kIdentity;
  if (a == "relu") return Activation::kRelu;
  return Activation::kLeakyRelu;
}

}  // namespace

const char* to_string(Activation a) {
  switch (a) {
    case Activation::kIdentity: return "identity";
    case Activation::kRelu: return "relu";
    case Activation::kLeakyRelu: return "leaky_relu";
  }
  return "?";
}

Model parse_model(const std::string& text, const std::string& filename) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    // e.byte is 1-based and points just past the offending character.
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string what = e.what();
    const auto p = what.find("syntax error");
    throw ModelError(filename + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " +
                     (p == std::string::npos ? what : what.substr(p)));
  } catch (const json::exception& e) {
    // Not syntax: a number the parser cannot hold (out_of_range 406, "1e309"). nlohmann gives
    // no position for it. Found by tests/input_fuzz_test.cpp.
    std::string what = e.what();
    const auto p = what.find("] ");
    throw ModelError(filename + ": " + (p == std::string::npos ? what : what.substr(p + 2)));
  }
  Model m;
  m.source = filename;
  Fields top(j, "", filename, {"name", "inputs", "layers", "loss", "training", "init", "data"});
  if (top.has("name")) m.name = top.string("name");
  m.inputs = top.integer("inputs", 1, 65535);
  const json& layers = top.at("layers");
  if (!layers.is_array() || layers.empty()) top.fail("layers", "must be a non-empty array");
  for (std::size_t i = 0; i < layers.size(); ++i) {
    Fields f(layers[i], "layers[" + std::to_string(i) + "]", filename,
             {"units", "activation", "leak_shift"});
    LayerSpec l;
    l.units = f.integer("units", 1, 65535);
    l.activation = parse_activation(f);
    l.leak_shift = f.integer("leak_shift", 0, 15, 2);
    m.layers.push_back(l);
  }
  if (top.has("loss") && top.choice("loss", {"mse"}, "mse") != "mse") top.fail("loss", "?");
  {
    Fields f(top.at("training"), "training", filename,
             {"batch", "learning_rate", "rounding", "loss_scale_log2", "epochs", "eval_every", "seed"});
    TrainingSpec& t = m.training;
    t.batch = f.integer("batch", 1, 1023);
    t.learning_rate = f.number("learning_rate", 0.0, 127.0);
    t.rounding = f.choice("rounding", {"nearest", "stochastic"}, "stochastic") == "nearest"
                     ? Rounding::kNearest
                     : Rounding::kStochastic;
    if (f.has("loss_scale_log2")) {
      const json& v = f.at("loss_scale_log2");
      if (v.is_string() && v.get<std::string>() == "max") {
        t.loss_scale_log2 = -1;
      } else {
        t.loss_scale_log2 = f.integer("loss_scale_log2", 0, 15);
      }
    }
    t.epochs = f.integer("epochs", 1, 1 << 30);
    t.eval_every = f.integer("eval_every", 1, 65535, 1);
    t.sgd_seed = static_cast<uint32_t>(f.integer("seed", 0, 0x7FFFFFFF, 1));
  }
  if (top.has("init")) {
    Fields f(top.at("init"), "init", filename, {"seed", "scale"});
    m.init.seed = static_cast<uint64_t>(f.integer("seed", 0, 0x7FFFFFFF, 1));
    m.init.scale = f.has("scale") ? f.number("scale", 0.0, 127.0) : 0.0;
  }
  if (top.has("data")) {
    Fields f(top.at("data"), "data", filename,
             {"train", "test", "targets", "feature_scale"});
    m.data.train = f.string("train");
    if (f.has("test")) m.data.test = f.string("test");
    m.data.targets =
        f.choice("targets", {"one_hot", "values"}, "one_hot") == "values" ? Targets::kValues
                                                                           : Targets::kOneHot;
    m.data.feature_scale = f.has("feature_scale") ? f.number("feature_scale", -128, 128) : 1.0;
  }
  validate(m, filename);
  return m;
}

void validate(const Model& m, const std::string& filename) {
  auto fail = [&](const std::string& field, const std::string& msg) {
    throw ModelError(filename + ": field '" + field + "': " + msg);
  };
  if (m.training.epochs % m.training.eval_every != 0) {
    fail("training.epochs", "must be a multiple of training.eval_every (" +
                                std::to_string(m.training.eval_every) + "), not " +
                                std::to_string(m.training.epochs));
  }
  if (m.training.epochs / m.training.eval_every > 65535) {
    fail("training.epochs", "at most 65535 evaluations (epochs / eval_every) per program");
  }
  if (m.training.loss_scale_log2 >= 0) {
    int max = 0;
    while ((1 << max) < m.training.batch) ++max;
    if (m.training.loss_scale_log2 > max) {
      fail("training.loss_scale_log2",
           "at most " + std::to_string(max) + " for batch " + std::to_string(m.training.batch) +
               " (the vector unit's loss scale 2/2^b needs b >= 0)");
    }
  }
}

Model load_model(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError(path + ": cannot open the model file");
  std::ostringstream s;
  s << in.rdbuf();
  Model m = parse_model(s.str(), path);
  const auto slash = path.find_last_of('/');
  m.dir = slash == std::string::npos ? "." : path.substr(0, slash);
  return m;
}

}  // namespace tpu::compiler
