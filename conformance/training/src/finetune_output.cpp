// The fine-tuning experiment's outputs: the table and the sweep as CSV, the Pareto plot as SVG
// (hand-written: axes, ticks, labels, one polyline per GSE bit width, the references as markers).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numbers>

#include "lowbit/conformance/output.hpp"
#include "lowbit/error.hpp"
#include "lowbit/training/finetune.hpp"

namespace lowbit::training {
namespace {

std::string csv_header() {
  return "task,method,family,bits,base_bits,rank,trainable_params,lr,final_loss,validation_loss,validation_accuracy,"
         "test_loss,accuracy,initial_test_loss,initial_accuracy,memory_bytes,base_bytes,trainable_bytes,activation_bytes,"
         "groups,exp_underflow,exp_overflow,exp_underflow_no_offset,exp_overflow_no_offset";
}

std::string csv_row(TaskKind task, const MethodResult& m) {
  return fmt::format("{},{},{},{:g},{:.6f},{},{},{:g},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.1f},{:.1f},{:.1f},{:.1f},{},{},{},{},{}",
                     task_name(task), m.name, m.family, m.bits, m.base_bits, m.rank, m.trainable_params, m.lr, m.final_loss,
                     m.validation_loss, m.validation_accuracy, m.test_loss, m.accuracy, m.initial_test_loss, m.initial_accuracy,
                     m.memory.total_bytes(), m.memory.base_bits / 8, m.memory.trainable_bits / 8, m.memory.activation_bits / 8,
                     m.stats.groups, m.stats.exp_underflow, m.stats.exp_overflow, m.no_offset.exp_underflow,
                     m.no_offset.exp_overflow);
}

std::string xml_escape(std::string_view s) {
  std::string o;
  for (const char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

// A "nice" tick step (1, 2 or 5 times a power of ten) for about `n` ticks over `span`.
double nice_step(double span, int n) {
  const double raw = span / n;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2"};

}  // namespace

std::string table_csv(const FinetuneReport& r) {
  std::string s = csv_header() + "\n";
  for (const TaskReport& t : r.tasks)
    for (const MethodResult& m : t.table) s += csv_row(t.task, m) + "\n";
  return s;
}

std::string sweep_csv(const FinetuneReport& r) {
  std::string s = csv_header() + ",pareto\n";
  for (const TaskReport& t : r.tasks)
    for (const MethodResult& m : t.sweep) s += csv_row(t.task, m) + (m.pareto ? ",1\n" : ",0\n");
  return s;
}

std::string lr_csv(const FinetuneReport& r) {
  std::string s = "task,family,method,lr,validation_loss,validation_accuracy,chosen\n";
  for (const TaskReport& t : r.tasks)
    for (const LrSelection& l : t.lr)
      for (const MethodResult& m : l.trials)
        s += fmt::format("{},{},{},{:g},{:.6f},{:.6f},{}\n", task_name(t.task), l.family, l.method, m.lr, m.validation_loss,
                         m.validation_accuracy, m.lr == l.chosen ? 1 : 0);
  return s;
}

namespace {

constexpr double kW = 820, kLeft = 70, kRight = 250, kPanelH = 330, kPanelGap = 100, kTop = 70;
constexpr double kPw = kW - kLeft - kRight;

std::string marker(const char* shape, double X, double Y, const char* c) {
  const std::string sh(shape);
  if (sh == "diamond")
    return fmt::format("<polygon points=\"{0:.2f},{1:.2f} {2:.2f},{3:.2f} {0:.2f},{4:.2f} {5:.2f},{3:.2f}\" fill=\"{6}\"/>\n", X,
                       Y - 6, X + 6, Y, Y + 6, X - 6, c);
  if (sh == "square")
    return fmt::format("<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"9\" height=\"9\" fill=\"{}\"/>\n", X - 4.5, Y - 4.5, c);
  if (sh == "triangle")
    return fmt::format("<polygon points=\"{0:.2f},{1:.2f} {2:.2f},{3:.2f} {4:.2f},{3:.2f}\" fill=\"{5}\"/>\n", X, Y - 6, X + 6,
                       Y + 5, X - 6, c);
  if (sh == "cross")
    return fmt::format("<path d=\"M {0:.2f} {1:.2f} L {2:.2f} {3:.2f} M {0:.2f} {3:.2f} L {2:.2f} {1:.2f}\" stroke=\"{4}\" "
                       "stroke-width=\"2.5\"/>\n",
                       X - 5, Y - 5, X + 5, Y + 5, c);
  // star: a five-pointed star
  std::string pts;
  for (int i = 0; i < 10; ++i) {
    const double a = -std::numbers::pi / 2 + i * std::numbers::pi / 5, rr = i % 2 ? 3.0 : 7.0;
    pts += fmt::format("{}{:.2f},{:.2f}", i ? " " : "", X + rr * std::cos(a), Y + rr * std::sin(a));
  }
  return fmt::format("<polygon points=\"{}\" fill=\"{}\"/>\n", pts, c);
}

std::string task_title(TaskKind k, const FinetuneSettings& st) {
  return k == TaskKind::outlier ? fmt::format("outlier task: the shift carried by {} outlier input features", st.outliers)
                                : "dense task: a dense low-rank shift";
}

// One panel (a task) whose plot area starts at y = top; the legend (the same for every task) is
// drawn with the first panel only.
void draw_panel(std::string& s, const TaskReport& r, const FinetuneSettings& st, double top, bool with_legend) {
  struct Marker {
    const MethodResult* m;
    const char* shape;
    const char* color;
    std::string label;
  };
  std::vector<Marker> refs;
  const std::map<std::string, std::pair<const char*, const char*>> ref_style{
      {"f32-lora", {"diamond", "#000000"}}, {"qlora", {"square", "#7f7f7f"}}, {"fp8", {"triangle", "#ff7f0e"}},
      {"qeft", {"cross", "#17becf"}},       {"full-f32", {"star", "#8c564b"}}};
  for (const MethodResult& m : r.table) {
    const auto it = ref_style.find(m.name);
    if (it == ref_style.end()) continue;
    std::string label = m.name == "full-f32" ? "full fp32 fine-tuning" : m.name + " (r " + std::to_string(m.rank) + ")";
    if (m.name == "qeft") label = "QEFT weak columns (~r " + std::to_string(m.rank) + ")";
    if (m.name == "f32-lora") label = "fp32 LoRA (r " + std::to_string(m.rank) + ")";
    if (m.name == "qlora") label = "QLoRA (r " + std::to_string(m.rank) + ")";
    if (m.name == "fp8") label = "FP8 (r " + std::to_string(m.rank) + ")";
    refs.push_back({&m, it->second.first, it->second.second, label});
  }
  std::vector<const MethodResult*> all;
  for (const MethodResult& m : r.sweep) all.push_back(&m);
  for (const Marker& m : refs) all.push_back(m.m);
  if (all.empty()) throw Error("pareto_svg: nothing to plot");

  // The accuracy axis spans the sweep (and the references near it): a reference more than 5 points
  // below the sweep's lowest is drawn on the bottom edge, labelled with its value.
  double sweep_min = INFINITY;
  for (const MethodResult& m : r.sweep) sweep_min = std::min(sweep_min, 100 * m.accuracy);
  auto off_scale = [&](const MethodResult* m) { return std::isfinite(sweep_min) && 100 * m->accuracy < sweep_min - 5; };
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (const MethodResult* m : all) {
    const double x = std::log2(m->memory.total_bytes() / 1024);
    xmin = std::min(xmin, x);
    xmax = std::max(xmax, x);
    if (off_scale(m)) continue;
    ymin = std::min(ymin, 100 * m->accuracy);
    ymax = std::max(ymax, 100 * m->accuracy);
  }
  xmin = std::floor(xmin * 2) / 2;
  xmax = std::ceil(xmax * 2) / 2;
  if (xmax <= xmin) xmax = xmin + 1;
  const double ystep = nice_step(std::max(ymax - ymin, 1.0), 6);
  ymin = std::max(0.0, std::floor((ymin - ystep / 4) / ystep) * ystep);
  ymax = std::min(100.0, std::ceil((ymax + ystep / 4) / ystep) * ystep);
  if (ymax <= ymin) ymax = ymin + ystep;
  const int yticks = static_cast<int>(std::lround((ymax - ymin) / ystep));
  const double ph = kPanelH;
  auto px = [&](double bytes) { return kLeft + (std::log2(bytes / 1024) - xmin) / (xmax - xmin) * kPw; };
  auto py = [&](double acc) { return top + (1 - (std::max(100 * acc, ymin) - ymin) / (ymax - ymin)) * ph; };

  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\">{}</text>\n", kLeft + kPw / 2, top - 10,
                   xml_escape(task_title(r.task, st)));
  // Grid, ticks and tick labels.
  for (double x = std::ceil(xmin); x <= xmax + 1e-9; x += 1) {
    const double X = kLeft + (x - xmin) / (xmax - xmin) * kPw;
    s += fmt::format("<line x1=\"{0:.2f}\" y1=\"{1}\" x2=\"{0:.2f}\" y2=\"{2}\" stroke=\"#e0e0e0\"/>\n", X, top, top + ph);
    s += fmt::format("<line x1=\"{0:.2f}\" y1=\"{1}\" x2=\"{0:.2f}\" y2=\"{2}\" stroke=\"#000000\"/>\n", X, top + ph, top + ph + 5);
    s += fmt::format("<text x=\"{:.2f}\" y=\"{}\" text-anchor=\"middle\">{:g}</text>\n", X, top + ph + 18, std::exp2(x));
  }
  for (int i = 0; i <= yticks; ++i) {
    const double y = ymin + i * ystep;
    const double Y = top + (1 - (y - ymin) / (ymax - ymin)) * ph;
    s += fmt::format("<line x1=\"{0}\" y1=\"{1:.2f}\" x2=\"{2}\" y2=\"{1:.2f}\" stroke=\"#e0e0e0\"/>\n", kLeft, Y, kLeft + kPw);
    s += fmt::format("<line x1=\"{0}\" y1=\"{1:.2f}\" x2=\"{2}\" y2=\"{1:.2f}\" stroke=\"#000000\"/>\n", kLeft - 5, Y, kLeft);
    s += fmt::format("<text x=\"{}\" y=\"{:.2f}\" text-anchor=\"end\">{:g}</text>\n", kLeft - 8, Y + 4, y);
  }
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#000000\"/>\n", kLeft, top, kPw, ph);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">training memory (KiB, log scale; batch {})</text>\n",
                   kLeft + kPw / 2, top + ph + 40, st.batch);
  s += fmt::format("<text x=\"18\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {0})\">held-out accuracy (%)</text>\n",
                   top + ph / 2);

  // The Pareto frontier of the sweep, dashed, in order of memory.
  std::vector<const MethodResult*> front;
  for (const MethodResult& m : r.sweep)
    if (m.pareto) front.push_back(&m);
  std::sort(front.begin(), front.end(), [](const MethodResult* a, const MethodResult* b) {
    return a->memory.total_bits() < b->memory.total_bits() ||
           (a->memory.total_bits() == b->memory.total_bits() && a->accuracy < b->accuracy);
  });
  if (front.size() > 1) {
    s += "<polyline fill=\"none\" stroke=\"#999999\" stroke-width=\"6\" stroke-opacity=\"0.35\" points=\"";
    for (std::size_t i = 0; i < front.size(); ++i)
      s += fmt::format("{}{:.2f},{:.2f}", i ? " " : "", px(front[i]->memory.total_bytes()), py(front[i]->accuracy));
    s += "\"/>\n";
  }

  // One polyline per bit width, over the ranks; markers labelled with the rank.
  double legend_y = top + 10;
  const double legend_x = kLeft + kPw + 16;
  auto legend = [&](const std::string& shape_svg, const std::string& text) {
    if (!with_legend) return;
    s += shape_svg;
    s += fmt::format("<text x=\"{}\" y=\"{:.2f}\">{}</text>\n", legend_x + 18, legend_y + 4, xml_escape(text));
    legend_y += 20;
  };
  std::size_t color = 0;
  for (const int bits : st.sweep_bits) {
    std::vector<const MethodResult*> pts;
    for (const MethodResult& m : r.sweep)
      if (m.family == "lora" && static_cast<int>(m.bits) == bits) pts.push_back(&m);
    if (pts.empty()) continue;
    const char* c = kColors[color++ % std::size(kColors)];
    s += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"", c);
    for (std::size_t i = 0; i < pts.size(); ++i)
      s += fmt::format("{}{:.2f},{:.2f}", i ? " " : "", px(pts[i]->memory.total_bytes()), py(pts[i]->accuracy));
    s += "\"/>\n";
    for (const MethodResult* m : pts) {
      const double X = px(m->memory.total_bytes()), Y = py(m->accuracy);
      s += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"3.5\" fill=\"{}\"/>\n", X, Y, c);
      // Rank labels above the first series' markers and below the others', so they do not collide.
      s += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\" font-size=\"9\" fill=\"{}\">{}</text>\n", X + 4,
                       color == 1 ? Y - 6 : Y + 13, c, m->rank);
    }
    legend(fmt::format("<line x1=\"{0}\" y1=\"{1:.2f}\" x2=\"{2}\" y2=\"{1:.2f}\" stroke=\"{3}\" stroke-width=\"1.5\"/>"
                       "<circle cx=\"{4}\" cy=\"{1:.2f}\" r=\"3.5\" fill=\"{3}\"/>\n",
                       legend_x, legend_y, legend_x + 14, c, legend_x + 7),
           fmt::format("GSE-INT{} (ranks {}..{})", bits, pts.front()->rank, pts.back()->rank));
  }
  if (front.size() > 1)
    legend(fmt::format("<line x1=\"{0}\" y1=\"{1:.2f}\" x2=\"{2}\" y2=\"{1:.2f}\" stroke=\"#999999\" stroke-width=\"6\" "
                       "stroke-opacity=\"0.35\"/>\n",
                       legend_x, legend_y, legend_x + 14),
           "Pareto frontier");
  for (const Marker& m : refs) {
    const double X = px(m.m->memory.total_bytes()), Y = py(m.m->accuracy);
    s += marker(m.shape, X, Y, m.color);
    if (off_scale(m.m))
      s += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\" font-size=\"10\" fill=\"{}\">{:.1f}% (off scale)</text>\n", X + 9,
                       Y - 4, m.color, 100 * m.m->accuracy);
    legend(marker(m.shape, legend_x + 7, legend_y, m.color), m.label);
  }
}

}  // namespace

std::string pareto_svg(const FinetuneReport& r) {
  if (r.tasks.empty()) throw Error("pareto_svg: nothing to plot");
  const double H = kTop + static_cast<double>(r.tasks.size()) * (kPanelH + kPanelGap) - kPanelGap + 60;
  std::string s;
  s += fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n",
      kW, H);
  s += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", kW, H);
  s += fmt::format(
      "<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">GSQ-Tuning bits x rank: held-out accuracy against "
      "training memory (seed {})</text>\n",
      kLeft + kPw / 2, r.settings.seed);
  for (std::size_t i = 0; i < r.tasks.size(); ++i)
    draw_panel(s, r.tasks[i], r.settings, kTop + static_cast<double>(i) * (kPanelH + kPanelGap), i == 0);
  s += "</svg>\n";
  return s;
}

void write_finetune_outputs(const FinetuneReport& r, const std::string& dir) {
  static constexpr std::string_view kFiles[] = {"table.csv", "sweep.csv", "lr.csv", "pareto.svg"};
  // An older run's folder (these regular files, nothing else) may be replaced.
  const auto older_run = [](const std::filesystem::path& d) {
    for (const std::filesystem::directory_entry& e : std::filesystem::directory_iterator(d))
      if (e.is_symlink() || !e.is_regular_file() || std::find(std::begin(kFiles), std::end(kFiles), e.path().filename()) == std::end(kFiles))
        return false;
    return true;
  };
  conformance::OutputDir out(dir, older_run);
  const std::string texts[] = {table_csv(r), sweep_csv(r), lr_csv(r), pareto_svg(r)};
  for (std::size_t i = 0; i < std::size(kFiles); ++i)
    out.write(std::string(kFiles[i]), {reinterpret_cast<const std::uint8_t*>(texts[i].data()), texts[i].size()});
  out.commit();
}

}  // namespace lowbit::training
