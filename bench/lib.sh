# bench/lib.sh: the set-up that bench/best.sh and bench/targets.sh share (sourced, not run).
#
# bench_setup CORPUS N: builds photopress and the SSIMULACRA2 scorer (examples/ssimulacra2.rs)
# and sets `bin`, `scorer`, `work` (a scratch folder, removed at exit unless KEEP_WORK is set)
# and `photos` (the first N JPEGs of CORPUS by name; all of them when N is 0), each linked
# into "$work/in".
bench_setup() {
  local corpus=$1 n=$2 p
  [ -d "$corpus" ] || { echo "no corpus at $corpus (run ../shared/bench/make_corpus.sh bench/corpus)" >&2; exit 2; }
  cargo build --release --quiet --bin photopress --example ssimulacra2
  bin=target/release/photopress
  scorer=target/release/examples/ssimulacra2
  work=$(mktemp -d)
  if [ -n "${KEEP_WORK:-}" ]; then echo "work: $work"; else trap 'rm -rf "$work"' EXIT; fi
  mkdir -p "$work/in"
  mapfile -t photos < <(find -L "$corpus" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) | sort)
  if [ "$n" -gt 0 ]; then photos=("${photos[@]:0:$n}"); fi
  for p in "${photos[@]}"; do ln -s "$(realpath "$p")" "$work/in/"; done
}
