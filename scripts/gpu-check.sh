#!/usr/bin/env bash
# GPU check for the WebGPU route: packs a self-contained payload on a machine with this project
# and Deno, then runs it on any Linux GPU host with no network and nothing installed.
#
#   scripts/gpu-check.sh pack [DIR]          build DIR (default outputs/gpu-check), ~40 MB:
#       deno.xz          the Deno binary running this project, xz-compressed
#       gpu_check.js     bench/gpu_check.ts and everything it imports, bundled into one file
#       vulkan/          Debian's libvulkan1 (the Vulkan loader), unpacked
#       x11libs/         libX11/libXext/libglvnd and deps (NVIDIA's ICD needs them), used if missing
#       parity/          the PyTorch parity fixture (tests/fixtures/parity)
#       gpu-check.sh     this script
#   DIR/gpu-check.sh run [--lavapipe] [-- gpu_check args]
#       unpacks Deno into a temp dir, points the Vulkan loader at the NVIDIA ICD when one exists
#       (/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json on the lent machines, else the
#       usual /usr/share/vulkan/icd.d, /etc/vulkan/icd.d), and runs the check: adapter, matMul
#       GFLOP/s, BERT S/M/B throughput, parity vs cpu and PyTorch, a short training run; with no
#       adapter (exit status 2) it prints the ICD's missing libraries and the loader's messages.
#       --lavapipe forces Mesa's software Vulkan (mesa-vulkan-drivers) and --quick sizes;
#       --packed-loader uses the packed libvulkan even when the host has one.
#
# Environment: VK_ICD_FILENAMES set by the caller wins; GPU_CHECK_ARGS adds gpu_check arguments.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
X11_DEBS="libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 libglvnd0"

# ldconfig lives in /sbin, which is often missing from PATH.
ldcache() { { command -v ldconfig >/dev/null && ldconfig -p; } || /sbin/ldconfig -p; }

die() {
  echo "gpu-check: $*" >&2
  exit 1
}

pack() {
  local root dir deno_bin tmp
  root="$(cd "$here/.." && pwd)"
  [ -f "$root/bench/gpu_check.ts" ] || die "pack runs from the project (bench/gpu_check.ts missing)"
  dir="${1:-$root/outputs/gpu-check}"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  deno_bin="$(command -v deno)" || die "deno is not on PATH"
  deno_bin="$(readlink -f "$deno_bin")"

  echo "== bundle bench/gpu_check.ts -> $dir/gpu_check.js"
  (cd "$root" && deno bundle --quiet --platform deno --minify -o "$dir/gpu_check.js" \
    bench/gpu_check.ts)

  echo "== Vulkan loader (Debian libvulkan1) -> $dir/vulkan"
  tmp="$(mktemp -d)"
  rm -rf "$dir/vulkan"
  mkdir -p "$dir/vulkan"
  if (cd "$tmp" && apt-get download -q libvulkan1 >/dev/null 2>&1); then
    dpkg-deb -x "$tmp"/libvulkan1_*.deb "$dir/vulkan"
    # Plain files only: symlinks may not survive the trip to the GPU host.
    find "$dir/vulkan" -type l | while read -r l; do cp --remove-destination "$(readlink -f "$l")" "$l"; done
  else
    # No apt here: copy the loader this machine uses (same Debian package when installed).
    local lib
    lib="$(ldcache | awk '/libvulkan\.so\.1 / {print $NF; exit}')"
    [ -n "$lib" ] || die "neither 'apt-get download libvulkan1' nor an installed libvulkan.so.1"
    mkdir -p "$dir/vulkan/usr/lib/x86_64-linux-gnu"
    cp -L "$lib" "$dir/vulkan/usr/lib/x86_64-linux-gnu/libvulkan.so.1"
  fi
  # X11 client libraries and libglvnd, which NVIDIA's Vulkan ICD (libGLX_nvidia.so.0) links
  # against; used on the GPU host only when it lacks them (minimal containers do).
  echo "== NVIDIA ICD dependencies (Debian libx11-6 libxext6 libglvnd0 ...) -> $dir/x11libs"
  rm -rf "$dir/x11libs" "$tmp"/*.deb
  mkdir -p "$dir/x11libs"
  if (cd "$tmp" && apt-get download -q $X11_DEBS >/dev/null 2>&1); then
    for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/x11"; done
    find "$tmp/x11" \( -type f -o -type l \) -name '*.so.*' | while read -r f; do
      cp -L "$f" "$dir/x11libs/$(basename "$f")"
    done
  else
    echo "   (apt-get download failed: packed without them)"
  fi
  rm -rf "$tmp"

  echo "== parity fixture -> $dir/parity"
  mkdir -p "$dir/parity"
  cp "$root/tests/fixtures/parity/"{config.json,model.safetensors,reference.json} "$dir/parity/"
  cp "$here/gpu-check.sh" "$dir/gpu-check.sh"
  chmod +x "$dir/gpu-check.sh"

  if [ ! -f "$dir/deno.xz" ] || [ "$deno_bin" -nt "$dir/deno.xz" ]; then
    echo "== $deno_bin ($("$deno_bin" --version | head -1)) -> $dir/deno.xz"
    xz -T0 -6 -c "$deno_bin" >"$dir/deno.xz.tmp"
    mv "$dir/deno.xz.tmp" "$dir/deno.xz"
  fi
  du -sh "$dir"
  echo "payload ready; on the GPU host: $dir/gpu-check.sh run"
}

unxz_to() {
  if command -v xz >/dev/null; then
    xz -dc "$1" >"$2"
  elif command -v python3 >/dev/null; then
    python3 -c 'import lzma, shutil, sys
with lzma.open(sys.argv[1]) as f, open(sys.argv[2], "wb") as o: shutil.copyfileobj(f, o)' "$1" "$2"
  else
    die "need xz or python3 to unpack deno.xz"
  fi
}

run() {
  local dir="$here" lavapipe=0 packed_loader=0 extra=()
  [ -f "$dir/deno.xz" ] || dir="$(cd "$here/.." && pwd)/outputs/gpu-check"
  while [ $# -gt 0 ]; do
    case "$1" in
      --lavapipe) lavapipe=1 ;;
      --packed-loader) packed_loader=1 ;;
      --dir) dir="$2"; shift ;;
      --) shift; extra=("$@"); break ;;
      *) die "unknown argument $1 (use: run [--lavapipe] [--packed-loader] [--dir DIR] [-- args])" ;;
    esac
    shift
  done
  [ -f "$dir/deno.xz" ] && [ -f "$dir/gpu_check.js" ] || die "no payload in $dir (run pack first)"

  work="$(mktemp -d)" # global: the EXIT trap runs after this function returns
  trap 'rm -rf "$work"' EXIT
  unxz_to "$dir/deno.xz" "$work/deno"
  chmod +x "$work/deno"

  # The Vulkan loader: the host's when it has one, else the packed Debian one.
  local vk="$dir/vulkan/usr/lib/x86_64-linux-gnu"
  if [ "$packed_loader" = 1 ] || ! ldcache 2>/dev/null | grep 'libvulkan\.so\.1 ' >/dev/null; then
    echo "Vulkan loader: packed ($vk)"
    export LD_LIBRARY_PATH="$vk${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  # What NVIDIA's ICD links against, when the host lacks it.
  local lib
  for lib in libX11.so.6 libXext.so.6 libGLdispatch.so.0; do
    if [ -d "$dir/x11libs" ] && ! ldcache 2>/dev/null | grep "$lib " >/dev/null; then
      echo "host lacks $lib: using the packed X11/libglvnd libraries"
      export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$dir/x11libs"
      break
    fi
  done
  # NVIDIA containers keep the driver's user-space libraries here.
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
    if [ -d "$d" ]; then export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d"; fi
  done

  local args=(--fixtures "$dir/parity")
  if [ "$lavapipe" = 1 ]; then
    local lvp
    lvp="$(ls /usr/share/vulkan/icd.d/lvp_icd.*.json 2>/dev/null | head -1)"
    [ -n "$lvp" ] || die "--lavapipe: no lvp_icd.*.json (apt-get install mesa-vulkan-drivers)"
    export VK_ICD_FILENAMES="$lvp"
    args+=(--quick --sizes S --backends webgpu)
  elif [ -z "${VK_ICD_FILENAMES:-}" ]; then
    for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json \
      /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
      if [ -f "$icd" ]; then
        export VK_ICD_FILENAMES="$icd"
        break
      fi
    done
  fi
  echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-<loader default>}"
  if [ -n "${VK_ICD_FILENAMES:-}" ]; then tr -d '\n' <"$VK_ICD_FILENAMES" || true; echo; fi
  if command -v nvidia-smi >/dev/null; then nvidia-smi -L || true; fi

  # wgpu: Vulkan only (its GL fallback would find llvmpipe), and a runtime dir.
  export DENO_WEBGPU_BACKEND="${DENO_WEBGPU_BACKEND:-vulkan}"
  mkdir -p "$work/xdg" && chmod 700 "$work/xdg"
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$work/xdg}"
  export DENO_DIR="$work/deno_dir" DENO_NO_UPDATE_CHECK=1
  local status=0
  # shellcheck disable=SC2086
  "$work/deno" run -A --cached-only "$dir/gpu_check.js" "${args[@]}" ${GPU_CHECK_ARGS:-} \
    "${extra[@]}" || status=$?
  if [ "$status" = 2 ]; then diagnose; fi
  return "$status"
}

# No adapter: show why (the ICD's library and its missing dependencies, the loader's messages).
diagnose() {
  echo "== diagnostics (no adapter)"
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  local icd lib path
  for icd in ${VK_ICD_FILENAMES//:/ }; do
    lib="$(sed -n 's/.*"library_path" *: *"\([^"]*\)".*/\1/p' "$icd" 2>/dev/null | head -1)"
    echo "ICD $icd -> ${lib:-?}"
    path="$lib"
    if [ -n "$lib" ] && [ "${lib#/}" = "$lib" ]; then
      path="$(ldcache 2>/dev/null | awk -v l="$lib" '$1 == l {print $NF; exit}')"
      local ldp="${LD_LIBRARY_PATH:-}"
      for d in ${ldp//:/ }; do if [ -e "$d/$lib" ]; then path="$d/$lib"; fi; done
    fi
    if [ -n "$path" ] && [ -e "$path" ]; then
      ldd "$path" 2>&1 | grep -E "not found|=>" | head -30
    else
      echo "   library not found"
    fi
  done
  VK_LOADER_DEBUG=error,warn "$work/deno" eval \
    'console.log("adapter:", (await navigator.gpu?.requestAdapter())?.info ?? null)' 2>&1 |
    head -60
}

case "${1:-run}" in
  pack) shift; pack "$@" ;;
  run) shift || true; run "$@" ;;
  *) die "usage: gpu-check.sh pack [DIR] | gpu-check.sh run [--lavapipe] [-- gpu_check args]" ;;
esac
