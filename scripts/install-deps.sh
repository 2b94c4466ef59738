#!/usr/bin/env bash
# Installs with apt whatever this project needs and the machine lacks (Debian 12).
# Idempotent: packages already installed are left alone, and nothing is fetched when
# nothing is missing. Run as root (or with sudo available).
set -euo pipefail

packages=(
  make cmake g++ pkg-config    # the build
  ninja-build                  # make sanitize's build (Ninja compiles across its library chain)
  verilator                    # RTL -> C++ models (5.006 on Debian 12)
  libgtest-dev libeigen3-dev   # testbenches and the golden model's reference math
  gtkwave                      # waveform viewer (make waves)
  yosys nextpnr-ice40 fpga-icestorm  # synthesis and place-and-route for iCE40
  fpga-icestorm-chipdb         # the chip databases icetime reads (timing estimate)
  z3                           # solver for yosys-smtbmc formal checks
  gnuplot-nox                  # the loss curve of the training demo
  libcli11-dev                 # command lines of the tools (CLI11)
  nlohmann-json3-dev           # model files and memory maps (nlohmann-json)
  parallel                     # make fuzz: random-program soaks sharded over processes or hosts
  lcov                         # make coverage: the HTML report (genhtml)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
  "${missing[@]}"
echo "install-deps: done"
