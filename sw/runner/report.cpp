#include "sw/runner/report.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace tpu::runner {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// A CSV field: empty where the value does not apply.
std::string field(double v, const char* f = "%.9g") { return std::isnan(v) ? "" : fmt(f, v); }

std::string percent(double v) { return std::isnan(v) ? "     -" : fmt("%5.1f%%", 100 * v); }

std::string loss_str(double v) {
  if (std::isnan(v)) return "-";
  return v != 0 && std::fabs(v) < 1e-4 ? fmt("%.2e", v) : fmt("%.5f", v);
}

// gnuplot single-quoted string: a quote is written twice.
std::string gp_str(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("''") : std::string(1, ch);
  return out + "'";
}

// A shell word.
std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error(path + ": cannot write");
}

// JSON laid out for reading: an array of numbers on one line, so a weight matrix reads one row
// per line; objects and other arrays one member per line.
void layout(std::ostringstream& s, const nlohmann::ordered_json& j, int indent) {
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  const auto flat = [](const nlohmann::ordered_json& a) {
    for (const auto& v : a) {
      if (v.is_structured()) return false;
    }
    return true;
  };
  if (j.is_object() && !j.empty()) {
    s << "{\n";
    std::size_t i = 0;
    for (auto it = j.begin(); it != j.end(); ++it, ++i) {
      s << pad << nlohmann::json(it.key()).dump() << ": ";
      layout(s, it.value(), indent + 2);
      s << (i + 1 < j.size() ? ",\n" : "\n");
    }
    s << std::string(static_cast<std::size_t>(indent), ' ') << "}";
  } else if (j.is_array() && !j.empty() && !flat(j)) {
    s << "[\n";
    for (std::size_t i = 0; i < j.size(); ++i) {
      s << pad;
      layout(s, j[i], indent + 2);
      s << (i + 1 < j.size() ? ",\n" : "\n");
    }
    s << std::string(static_cast<std::size_t>(indent), ' ') << "]";
  } else {
    if (!j.is_array()) {
      s << j.dump();
      return;
    }
    s << "[";  // numbers (or strings) on one line
    for (std::size_t i = 0; i < j.size(); ++i) s << (i ? ", " : "") << j[i].dump();
    s << "]";
  }
}

bool any(const std::vector<Checkpoint>& cps, double Checkpoint::*f) {
  for (const Checkpoint& c : cps) {
    if (!std::isnan(c.*f)) return true;
  }
  return false;
}

}  // namespace

std::string with_commas(uint64_t v) {
  std::string s = std::to_string(v), out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

std::string metrics_row(const Checkpoint& c) {
  return std::to_string(c.epoch) + "," + field(c.loss) + "," + field(c.train_acc) + "," +
         field(c.test_acc) + "," + field(c.cycles, "%.0f") + "," + field(c.float_loss) + "," +
         field(c.float_train_acc) + "," + field(c.float_test_acc);
}

MetricsWriter::MetricsWriter(const std::string& path) : path_(path), out_(path) {
  out_ << kMetricsHeader << "\n" << std::flush;
  if (!out_) throw std::runtime_error(path + ": cannot write");
}

void MetricsWriter::add(const Checkpoint& c) {
  out_ << metrics_row(c) << "\n" << std::flush;
  if (!out_) throw std::runtime_error(path_ + ": cannot write");
}

void write_metrics_csv(const std::string& path, const std::vector<Checkpoint>& checkpoints) {
  MetricsWriter w(path);
  for (const Checkpoint& c : checkpoints) w.add(c);
}

void write_confusion_csv(const std::string& path, const Eigen::MatrixXi& m) {
  std::ostringstream s;
  s << "true\\predicted";
  for (Eigen::Index c = 0; c < m.cols(); ++c) s << "," << c;
  s << "\n";
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    s << r;
    for (Eigen::Index c = 0; c < m.cols(); ++c) s << "," << m(r, c);
    s << "\n";
  }
  write_text(path, s.str());
}

void write_params_json(const std::string& path, const compiler::Model& m,
                       const std::vector<compiler::LayerParams>& params) {
  using json = nlohmann::ordered_json;
  json layers = json::array();
  int fan_in = m.inputs;
  for (std::size_t l = 0; l < params.size(); ++l) {
    const compiler::LayerParams& p = params[l];
    json w = json::array(), wq = json::array(), b = json::array(), bq = json::array();
    for (Eigen::Index r = 0; r < p.w.rows(); ++r) {
      json row = json::array(), rowq = json::array();
      for (Eigen::Index c = 0; c < p.w.cols(); ++c) {
        row.push_back(p.w(r, c));
        rowq.push_back(compiler::to_q88(p.w(r, c)));
      }
      w.push_back(std::move(row));
      wq.push_back(std::move(rowq));
    }
    for (Eigen::Index c = 0; c < p.b.size(); ++c) {
      b.push_back(p.b(c));
      bq.push_back(compiler::to_q88(p.b(c)));
    }
    const compiler::LayerSpec& spec = m.layers.at(l);
    layers.push_back({{"layer", l + 1},
                      {"units", spec.units},
                      {"inputs", fan_in},
                      {"activation", compiler::to_string(spec.activation)},
                      {"W", std::move(w)},
                      {"b", std::move(b)},
                      {"W_q88", std::move(wq)},
                      {"b_q88", std::move(bq)}});
    fan_in = spec.units;
  }
  const json doc = {{"model", m.name},
                    {"inputs", m.inputs},
                    {"format", "Q8.8"},
                    {"note",
                     "W is units x inputs (row r: the weights into unit r); "
                     "W_q88 and b_q88 are the raw 16-bit values, value * 256"},
                    {"layers", std::move(layers)}};
  std::ostringstream text;
  layout(text, doc, 0);
  write_text(path, text.str() + "\n");
}

std::vector<compiler::LayerParams> read_params_json(const std::string& path,
                                                    const compiler::Model& m) {
  using nlohmann::json;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the parameter file");
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    throw std::runtime_error(path + ": not JSON (" + e.what() + ")");
  }
  const json* layers = doc.is_object() && doc.contains("layers") ? &doc["layers"] : nullptr;
  if (layers == nullptr || !layers->is_array() || layers->size() != m.layers.size()) {
    throw std::runtime_error(path + ": needs 'layers', an array of " +
                             std::to_string(m.layers.size()) + " layers for model '" + m.name +
                             "'");
  }
  std::vector<compiler::LayerParams> out;
  int fan_in = m.inputs;
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    const int units = m.layers[l].units;
    const std::string where = path + ": layer " + std::to_string(l + 1) + ": ";
    const json& j = (*layers)[l];
    const bool raw = j.is_object() && j.contains("W_q88") && j.contains("b_q88");
    const char* wk = raw ? "W_q88" : "W";
    const char* bk = raw ? "b_q88" : "b";
    auto value = [&](const json& v, const char* what) {
      if (!v.is_number())
        throw std::runtime_error(where + what + " holds a value that is not a number");
      const double d = v.get<double>();
      if (!raw) return compiler::from_q88(compiler::to_q88(d));
      if (d != std::floor(d) || d < -32768 || d > 32767) {
        throw std::runtime_error(where + what + " holds " + v.dump() + ", not a 16-bit integer");
      }
      return compiler::from_q88(static_cast<int32_t>(d));
    };
    if (!j.is_object() || !j.contains(wk) || !j.contains(bk)) {
      throw std::runtime_error(where + "needs W and b (or W_q88 and b_q88)");
    }
    const json& w = j[wk];
    const json& b = j[bk];
    if (!w.is_array() || static_cast<int>(w.size()) != units || !b.is_array() ||
        static_cast<int>(b.size()) != units) {
      throw std::runtime_error(where + "the model needs " + wk + " of " + std::to_string(units) +
                               " x " + std::to_string(fan_in) + " and " + bk + " of " +
                               std::to_string(units));
    }
    compiler::LayerParams p;
    p.w.resize(units, fan_in);
    p.b.resize(units);
    for (int r = 0; r < units; ++r) {
      if (!w[r].is_array() || static_cast<int>(w[r].size()) != fan_in) {
        throw std::runtime_error(where + wk + " row " + std::to_string(r) + " needs " +
                                 std::to_string(fan_in) + " values");
      }
      for (int c = 0; c < fan_in; ++c) p.w(r, c) = value(w[r][c], wk);
      p.b(r) = value(b[r], bk);
    }
    out.push_back(std::move(p));
    fan_in = units;
  }
  return out;
}

bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

Plots plot(const std::string& dir, const std::string& title, const std::vector<Checkpoint>& cps,
           bool classifier, const Eigen::MatrixXi& confusion, const std::string& confusion_of) {
  Plots out;
  if (!have_gnuplot()) {
    out.problem = "gnuplot is not installed: no plots (apt-get install gnuplot-nox)";
    return out;
  }
  const std::filesystem::path d(dir);
  std::ostringstream s;
  std::vector<std::string> pngs;
  s << "# Written by tpu-run; `gnuplot " << (d / "plots.gp").string() << "` redraws.\n"
    << "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
    << "  set terminal pngcairo size 900,540 noenhanced\n"
    << "} else {\n"
    << "  set terminal png size 900,540 noenhanced\n"
    << "}\n"
    << "set grid\nset key top right\n"
    << "$metrics << EOD\n"
    << "# epoch loss train_acc test_acc cycles float_loss float_train_acc float_test_acc\n";
  bool positive = true;
  for (const Checkpoint& c : cps) {
    auto v = [](double x) { return std::isnan(x) ? std::string("NaN") : fmt("%.9g", x); };
    s << c.epoch << " " << v(c.loss) << " " << v(c.train_acc) << " " << v(c.test_acc) << " "
      << v(c.cycles) << " " << v(c.float_loss) << " " << v(c.float_train_acc) << " "
      << v(c.float_test_acc) << "\n";
    positive = positive && c.loss > 0 && (std::isnan(c.float_loss) || c.float_loss > 0);
  }
  s << "EOD\n";
  const bool with_float = any(cps, &Checkpoint::float_loss);
  const std::string loss_png = (d / "loss.png").string();
  s << "set output " << gp_str(loss_png) << "\n"
    << "set title " << gp_str(title + ": MSE loss on the training set") << "\n"
    << "set xlabel 'epoch'\nset ylabel 'MSE loss'\n"
    << (positive ? "set logscale y\n" : "")
    << "plot $metrics using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'TPU (Q8.8)'"
    << (with_float ? ", $metrics using 1:6 with linespoints lw 2 dt 2 pt 6 ps 0.6 "
                     "title 'float reference'"
                   : "")
    << "\nunset logscale y\n";
  pngs.push_back(loss_png);
  if (classifier) {
    const bool test = any(cps, &Checkpoint::test_acc);
    const std::string acc_png = (d / "accuracy.png").string();
    s << "set output " << gp_str(acc_png) << "\n"
      << "set title " << gp_str(title + ": accuracy") << "\n"
      << "set ylabel 'accuracy (%)'\nset yrange [0:105]\nset key bottom right\n"
      << "plot $metrics using 1:($3*100) with linespoints lw 2 pt 7 ps 0.6 lc 1 "
         "title 'TPU, train'";
    if (test) {
      s << ", $metrics using 1:($4*100) with linespoints lw 2 pt 5 ps 0.6 lc 2 title 'TPU, test'";
    }
    if (with_float) {
      s << ", $metrics using 1:($7*100) with linespoints lw 1 dt 2 pt 6 ps 0.6 lc 1 "
           "title 'float, train'";
      if (test) {
        s << ", $metrics using 1:($8*100) with linespoints lw 1 dt 2 pt 4 ps 0.6 lc 2 "
             "title 'float, test'";
      }
    }
    s << "\nset autoscale y\nset key top right\n";
    pngs.push_back(acc_png);
  }
  if (confusion.rows() > 0) {
    const std::string conf_png = (d / "confusion.png").string();
    const Eigen::Index k = confusion.rows();
    s << "$confusion << EOD\n";
    for (Eigen::Index r = 0; r < k; ++r) {
      for (Eigen::Index c = 0; c < k; ++c) s << c << " " << r << " " << confusion(r, c) << "\n";
    }
    s << "EOD\n"
      << "set output " << gp_str(conf_png) << "\n"
      << "set title " << gp_str(title + ": confusion matrix, " + confusion_of) << "\n"
      << "set size ratio -1\nunset grid\nunset key\n"
      << "set xlabel 'predicted class'\nset ylabel 'true class'\n"
      << "set xrange [-0.5:" << k - 0.5 << "]\nset yrange [" << k - 0.5 << ":-0.5]\n"
      << "set xtics 1 out\nset ytics 1 out\nset cbrange [0:" << std::max(1, confusion.maxCoeff())
      << "]\nset palette defined (0 'white', 1 '#6baed6', 2 '#08519c')\n"
      // Counts in white on the dark cells, black on the light ones.
      << "plot $confusion using 1:2:3 with image, $confusion using 1:2:(sprintf('%d', $3)):"
      << "($3 > " << std::max(1, confusion.maxCoeff()) / 2.0
      << " ? 0xffffff : 0) with labels tc rgb variable" << (k > 24 ? " font ',6'" : "") << "\n";
    pngs.push_back(conf_png);
  }
  s << "unset output\n";
  const std::string script = (d / "plots.gp").string();
  write_text(script, s.str());
  FILE* p = popen(("gnuplot " + sh_quote(script) + " 2>&1").c_str(), "r");
  std::string said;
  if (p != nullptr) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p) != nullptr) said += buf;
  }
  const int rc = p != nullptr ? pclose(p) : -1;
  if (rc != 0) {
    const auto nl = said.find_first_not_of(" \t\n");
    out.problem = "gnuplot failed on " + script +
                  (nl == std::string::npos ? std::string() : ": " + said.substr(nl, 200));
    return out;
  }
  out.written = pngs;
  return out;
}

Outputs write_outputs(const std::string& dir, const Problem& p, const RunResult& r,
                      const std::string& engine, bool plots) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error(dir + ": cannot create the output folder (" + ec.message() + ")");
  const std::filesystem::path d(dir);
  Outputs o;
  o.dir = dir;
  o.metrics = (d / "metrics.csv").string();
  write_metrics_csv(o.metrics, r.checkpoints);
  o.params = (d / "params.json").string();
  write_params_json(o.params, p.model, r.params);
  Eigen::MatrixXi conf;
  std::string conf_of;
  if (is_classifier(p.model)) {
    const int k = p.model.layers.back().units;
    if (p.test) {
      conf = confusion(r.pred_test, p.test->labels, k);
      conf_of = "test set (" + std::to_string(p.test->rows()) + " samples)";
    } else {
      conf = confusion(r.pred_train, p.train.labels, k);
      conf_of = "training set (" + std::to_string(p.train.rows()) + " samples)";
    }
    o.confusion = (d / "confusion.csv").string();
    write_confusion_csv(o.confusion, conf);
  }
  if (plots) {
    o.plots = plot(dir, p.model.name + " on " + engine, r.checkpoints, is_classifier(p.model), conf,
                   conf_of);
  }
  return o;
}

std::string checkpoint_line(const Problem& p, const Checkpoint& c, bool with_float) {
  const int epochs = p.model.training.epochs;
  const int w = static_cast<int>(std::to_string(epochs).size());
  char head[64];
  std::snprintf(head, sizeof head, "  epoch %*d/%d", w, c.epoch, epochs);
  std::string s = head;
  s += "  loss " + loss_str(c.loss);
  const bool classifier = is_classifier(p.model);
  if (classifier) {
    s += "  train " + percent(c.train_acc);
    if (p.test) s += "  test " + percent(c.test_acc);
  }
  if (!std::isnan(c.cycles)) {
    s += "  cycles " + with_commas(static_cast<uint64_t>(c.cycles));
  } else if (c.instructions != 0) {
    s += "  instructions " + with_commas(c.instructions);
  }
  if (with_float) {
    s += "  | float loss " + loss_str(c.float_loss);
    if (classifier) {
      s += "  train " + percent(c.float_train_acc);
      if (p.test) s += "  test " + percent(c.float_test_acc);
    }
  }
  return s;
}

std::string progress_bar(double fraction, int width) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  const int full = static_cast<int>(fraction * width);
  return "[" + std::string(full, '#') + std::string(width - full, ' ') + "] " +
         fmt("%3.0f%%", 100 * fraction);
}

std::string summary_table(const Problem& p, const RunResult& r, const std::string& engine,
                          bool with_float) {
  const compiler::Model& m = p.model;
  const bool classifier = is_classifier(m);
  std::ostringstream s;
  s << "summary: " << m.name << " on the " << engine << " engine, " << m.training.epochs
    << " epochs, start from " << p.init_from << "\n";
  if (r.checkpoints.empty()) return s.str();
  const Checkpoint& last = r.checkpoints.back();
  auto row = [&](const std::string& what, const std::string& tpu, const std::string& ref) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %-20s %14s %14s\n", what.c_str(), tpu.c_str(),
                  with_float ? ref.c_str() : "");
    s << buf;
  };
  row("", "TPU", "float");
  row("loss (train MSE)", loss_str(last.loss), loss_str(last.float_loss));
  if (classifier) {
    row("train accuracy", percent(last.train_acc), percent(last.float_train_acc));
    if (p.test) {
      row("test accuracy", percent(last.test_acc), percent(last.float_test_acc));
      const Checkpoint* best = &r.checkpoints.front();
      for (const Checkpoint& c : r.checkpoints) {
        if (c.test_acc > best->test_acc) best = &c;
      }
      row("best test accuracy", percent(best->test_acc), "");
      row("  at epoch", std::to_string(best->epoch), "");
    }
  }
  const auto per_epoch = [&](uint64_t n) {
    const double v = static_cast<double>(n) / m.training.epochs;
    return v < 1000 ? fmt("%.1f", v) : with_commas(static_cast<uint64_t>(std::llround(v)));
  };
  if (r.cycles != 0) {
    row("cycles", with_commas(r.cycles), "");
    row("cycles per epoch", per_epoch(r.cycles), "");
  } else if (r.instructions != 0) {
    row("instructions", with_commas(r.instructions), "");
    row("per epoch", per_epoch(r.instructions), "");
  }
  row("wall time", fmt("%.2f s", r.seconds), "");
  return s.str();
}

}  // namespace tpu::runner
