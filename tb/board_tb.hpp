// The board-level testbench: the Verilated board top (rtl/board/icebreaker_top.sv, built with
// UsePll=0) behind a simulated tty. It is a runtime::ByteLink, so the serial device
// (sw/runtime/serial_device.hpp) drives it exactly as it drives /dev/ttyUSB1:
//   - bytes written go bit by bit onto the RX pin (8N1, LSB first, ClksPerBit cycles a bit,
//     back to back as a UART sends them);
//   - the TX pin is sampled in the middle of every bit, and whole bytes wait to be read;
//   - the clock runs while the host waits (read, settle): the link's time is the board's clock
//     cycles at ClockMhz, so the device's deadlines and quiet periods are in board time.
// Every cycle after the TPU's reset is released, the TPU inside is checked against the golden
// TpuModel: the board's debug outputs show the TPU's host-port inputs (what the bridge drives)
// and its outputs; the golden model gets the same inputs and every output is compared during
// the cycle. The comparison is tb/tpu_tb.hpp's (TpuTb) run on a view of the board that looks
// like the bare `tpu`; the first mismatch throws runtime::MismatchError from the link, and so
// from whatever device operation was waiting.
//
// `Board` is the Verilated icebreaker_top (Vicebreaker_top), built with the parameters given in
// BoardParams.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "golden/tpu_model.hpp"
#include "sw/runtime/device.hpp"
#include "sw/runtime/serial_link.hpp"
#include "tb/lanes.hpp"
#include "tb/tpu_tb.hpp"

namespace tpu::tb {

// The board top's parameters the testbench must know (the Verilated model's -G values).
struct BoardParams {
  int dim = 2;              // ArrayDim
  int ub_depth = 512;       // UbDepth
  int imem_depth = 512;     // ImemDepth
  int max_in_flight = 3;    // MaxInFlight
  int clock_mhz = 30;       // ClockMhz: link time is cycles / clock_mhz microseconds
  int clks_per_bit = 8;     // ClksPerBit
  int timeout_clks = 2000;  // TimeoutClks

  // A line time of `clks` board cycles, rounded up.
  runtime::Micros micros(uint64_t clks) const {
    return runtime::Micros{static_cast<int64_t>((clks + clock_mhz - 1) / clock_mhz)};
  }
  // The line's rate in bits per second (ClockMhz / ClksPerBit).
  int baud() const { return clock_mhz * 1'000'000 / clks_per_bit; }
};

// The board top seen as the bare `tpu` (the ports TpuTb and Harness use): clk_i and rst_ni
// drive CLK and BTN_N; the TPU's outputs are the board's debug outputs; the host-port inputs
// TpuTb sets are checked, at every evaluation with the clock low, against what the bridge
// drives (they must be equal: TpuTb is given the bridge's values).
template <class Board>
class BoardView {
  template <class T>
  using Port = std::remove_reference_t<T>;

 public:
  BoardView(VerilatedContext* context, const char* name) : board(context, name) {}
  // Verilator keeps one current context per thread (set when a model is made), and a model's
  // scopes and $error use it: with two boards alive (a test opening a second one), each must
  // make its own current before it evaluates and before it is destroyed.
  ~BoardView() { Verilated::threadContextp(board.contextp()); }
  BoardView(const BoardView&) = delete;
  BoardView& operator=(const BoardView&) = delete;

  void eval() {
    Verilated::threadContextp(board.contextp());
    board.CLK = clk_i;
    board.BTN_N = rst_ni;
    board.RX = rx;
    board.eval();
    if (!clk_i && board.dbg_tpu_rst_no && check_inputs) {
      const bool same =
          host_req_valid_i == board.dbg_host_req_valid_o &&
          host_rsp_ready_i == board.dbg_host_rsp_ready_o &&
          (!host_req_valid_i || (host_req_we_i == board.dbg_host_req_we_o &&
                                 host_req_space_i == board.dbg_host_req_space_o &&
                                 host_req_addr_i == board.dbg_host_req_addr_o &&
                                 same_bits(host_req_wdata_i, board.dbg_host_req_wdata_o)));
      if (!same) ++input_mismatches;
    }
  }
  void final() { board.final(); }
  // Integers and VlWide (which has no ==) alike.
  template <class P>
  static bool same_bits(const P& a, const P& b) {
    for (int w = 0; w < detail::port_bits<P>() / 32 + 1; ++w) {
      if (get_bits(a, 32 * w, 32) != get_bits(b, 32 * w, 32)) return false;
    }
    return true;
  }
  template <class Trace>
  void trace(Trace* t, int levels, int options = 0) {
    board.trace(t, levels, options);
  }

  Board board;  // first: the references below point into it

  // Harness's ports.
  CData clk_i = 0;
  CData rst_ni = 1;
  CData rx = 1;  // the RX pin (idle high)
  bool check_inputs = false;
  uint64_t input_mismatches = 0;

  // The host-port inputs TpuTb drives.
  CData host_req_valid_i = 0;
  CData host_req_we_i = 0;
  CData host_req_space_i = 0;
  Port<decltype(board.dbg_host_req_addr_o)> host_req_addr_i{};
  Port<decltype(board.dbg_host_req_wdata_o)> host_req_wdata_i{};
  CData host_rsp_ready_i = 0;

  // The TPU's outputs.
  const Port<decltype(board.dbg_host_req_ready_o)>& host_req_ready_o = board.dbg_host_req_ready_o;
  const Port<decltype(board.dbg_host_rsp_valid_o)>& host_rsp_valid_o = board.dbg_host_rsp_valid_o;
  const Port<decltype(board.dbg_host_rsp_rdata_o)>& host_rsp_rdata_o = board.dbg_host_rsp_rdata_o;
  const Port<decltype(board.dbg_host_rsp_err_o)>& host_rsp_err_o = board.dbg_host_rsp_err_o;
  const Port<decltype(board.dbg_array_valid_o)>& dbg_array_valid_o = board.dbg_array_valid_o;
  const Port<decltype(board.dbg_array_data_o)>& dbg_array_data_o = board.dbg_array_data_o;
  const Port<decltype(board.dbg_vpu_valid_o)>& dbg_vpu_valid_o = board.dbg_vpu_valid_o;
  const Port<decltype(board.dbg_vpu_data_o)>& dbg_vpu_data_o = board.dbg_vpu_data_o;
  const Port<decltype(board.dbg_wr_valid_o)>& dbg_wr_valid_o = board.dbg_wr_valid_o;
  const Port<decltype(board.dbg_wr_addr_o)>& dbg_wr_addr_o = board.dbg_wr_addr_o;
  const Port<decltype(board.dbg_wr_data_o)>& dbg_wr_data_o = board.dbg_wr_data_o;
  const Port<decltype(board.dbg_pc_o)>& dbg_pc_o = board.dbg_pc_o;
  const Port<decltype(board.dbg_state_o)>& dbg_state_o = board.dbg_state_o;
  const Port<decltype(board.dbg_err_o)>& dbg_err_o = board.dbg_err_o;
};

template <class Board>
class BoardTb : public runtime::ByteLink {
 public:
  using View = BoardView<Board>;

  // Resets the board (BTN_N low for 2 cycles) and clocks it until the TPU's reset is released
  // (the top's power-on reset: about 1,000 cycles). `trace_name`: waves/<name>.vcd when
  // TPU_TRACE=1 or `force_trace`.
  explicit BoardTb(const BoardParams& p, const std::string& trace_name = "board",
                   bool force_trace = false)
      : p_(p),
        tb_(p.dim, p.ub_depth, p.imem_depth, trace_name, force_trace, true, p.max_in_flight) {
    tb_.reset();
    for (uint64_t c = 0; !view().board.dbg_tpu_rst_no; ++c) {
      if (c >= kResetLimit) {
        throw runtime::DeviceError("board: the TPU was still in reset " +
                                   std::to_string(kResetLimit) + " cycles after BTN_N");
      }
      tick();
    }
  }

  // --- runtime::ByteLink ---------------------------------------------------------------------
  std::string name() const override { return "the simulated board (icebreaker_top)"; }
  runtime::Micros now() const override {
    return runtime::Micros{static_cast<int64_t>(cycles_ / static_cast<uint64_t>(p_.clock_mhz))};
  }
  void write(std::span<const uint8_t> bytes) override {
    to_board_.insert(to_board_.end(), bytes.begin(), bytes.end());
  }
  std::size_t read(std::span<uint8_t> out, runtime::Micros timeout) override {
    const uint64_t end = cycles_ + clks(timeout);
    while (from_board_.size() < out.size() && cycles_ < end) tick();
    const std::size_t n = std::min(out.size(), from_board_.size());
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = from_board_.front();
      from_board_.pop_front();
    }
    return n;
  }
  void settle(runtime::Micros quiet) override {
    while (sending()) tick();
    run_cycles(clks(quiet));
    from_board_.clear();
  }

  // --- The test's view -----------------------------------------------------------------------
  const BoardParams& params() const { return p_; }
  void run_cycles(uint64_t n) {
    for (uint64_t i = 0; i < n; ++i) tick();
  }
  // Clocks until every written byte has left the host's UART.
  void flush() {
    while (sending()) tick();
  }
  uint64_t cycles() const { return cycles_; }               // since construction
  uint64_t compared_cycles() const { return tb_.cycle(); }  // against the golden model
  uint64_t mismatches() const { return tb_.log().count() + view().input_mismatches; }
  const golden::TpuModel& golden() const { return tb_.golden(); }
  // Bytes received from TX and not read yet.
  std::size_t pending() const { return from_board_.size(); }
  // Bytes on TX whose stop bit was low (the host's UART drops them).
  uint64_t framing_errors() const { return framing_errors_; }
  Board& board() { return view().board; }

 private:
  static constexpr uint64_t kResetLimit = 100'000;

  View& view() { return tb_.harness().top(); }
  const View& view() const { return const_cast<TpuTb<View>&>(tb_).harness().top(); }

  uint64_t clks(runtime::Micros t) const {
    return t.count() <= 0 ? 0
                          : static_cast<uint64_t>(t.count()) * static_cast<uint64_t>(p_.clock_mhz);
  }
  bool sending() const { return bit_ >= 0 || !to_board_.empty(); }

  // One clock cycle: RX from the host's UART, TX into the host's, the TPU against the golden
  // model once out of reset.
  void tick() {
    View& v = view();
    if (bit_ < 0 && !to_board_.empty()) {
      shift_ = static_cast<uint16_t>(0x200 | to_board_.front() << 1);  // stop, data, start
      to_board_.pop_front();
      bit_ = 0;
      bit_left_ = p_.clks_per_bit;
    }
    v.rx = bit_ < 0 ? 1 : (shift_ >> bit_) & 1;
    // TX and the TPU's host-port inputs come from flops: what the last edge left is what the
    // cycle shows (the view checks the inputs again once settled).
    const bool tx = v.board.TX != 0;
    if (v.board.dbg_tpu_rst_no) {
      v.check_inputs = true;
      in_.host_req_valid = v.board.dbg_host_req_valid_o != 0;
      in_.host_req_we = v.board.dbg_host_req_we_o != 0;
      in_.host_req_space = static_cast<uint8_t>(v.board.dbg_host_req_space_o);
      in_.host_req_addr = static_cast<uint32_t>(v.board.dbg_host_req_addr_o);
      in_.host_req_wdata.resize(golden::host_words(golden::tpu_host_width(p_.dim)));
      for (std::size_t w = 0; w < in_.host_req_wdata.size(); ++w) {
        in_.host_req_wdata[w] = static_cast<uint32_t>(
            get_bits(v.board.dbg_host_req_wdata_o, 32 * static_cast<int>(w), 32));
      }
      in_.host_rsp_ready = v.board.dbg_host_rsp_ready_o != 0;
      tb_.cycle(in_);
      released_ = true;
    } else {
      if (released_) {
        throw runtime::DeviceError("board: the TPU went back into reset at cycle " +
                                   std::to_string(cycles_) +
                                   " (the golden model cannot follow a reset mid-test)");
      }
      tb_.harness().step();
    }
    ++cycles_;
    receive(tx);
    if (bit_ >= 0 && --bit_left_ == 0) {
      bit_left_ = p_.clks_per_bit;
      if (++bit_ == 10) bit_ = -1;
    }
    if (mismatches() > reported_) {
      reported_ = mismatches();
      std::string why;
      if (tb_.log().count() > 0) why = tb_.log().report();
      if (view().input_mismatches > 0) {
        why += (why.empty() ? "" : "\n  ") + std::string("in cycle ") +
               std::to_string(cycles_ - 1) +
               " the TPU's host-port inputs were not what the golden model was given";
      }
      throw runtime::MismatchError("the board's TPU disagreed with the golden model: " + why);
    }
  }

  // The host's UART receiver: a start bit is TX low while idle; bit k is sampled
  // ClksPerBit/2 + k * ClksPerBit cycles after it, k = 0 (start) .. 9 (stop).
  void receive(bool tx) {
    if (rx_at_ < 0) {
      if (tx) return;
      rx_at_ = 0;
      rx_shift_ = 0;
    }
    const int half = p_.clks_per_bit / 2;
    if (rx_at_ >= half && (rx_at_ - half) % p_.clks_per_bit == 0) {
      const int k = (rx_at_ - half) / p_.clks_per_bit;
      if (k == 0 && tx) {  // a glitch, not a start bit
        rx_at_ = -1;
        return;
      }
      if (k >= 1 && k <= 8) rx_shift_ = static_cast<uint8_t>(rx_shift_ | (tx ? 1 : 0) << (k - 1));
      if (k == 9) {
        if (tx) {
          from_board_.push_back(rx_shift_);
        } else {
          ++framing_errors_;
        }
        rx_at_ = -1;
        return;
      }
    }
    ++rx_at_;
  }

  BoardParams p_;
  TpuTb<View> tb_;
  golden::TpuInputs in_;
  uint64_t cycles_ = 0;
  bool released_ = false;
  uint64_t reported_ = 0;
  // Host -> board: bytes waiting, and the one on the line (bit_: 0 start .. 9 stop, -1 idle).
  std::deque<uint8_t> to_board_;
  uint16_t shift_ = 0x3FF;
  int bit_ = -1;
  int bit_left_ = 0;
  // Board -> host.
  std::deque<uint8_t> from_board_;
  int rx_at_ = -1;
  uint8_t rx_shift_ = 0;
  uint64_t framing_errors_ = 0;
};

}  // namespace tpu::tb
