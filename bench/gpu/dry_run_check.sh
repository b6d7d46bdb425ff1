#!/usr/bin/env bash
# ctest gpu_run_dry: runs `bench/gpu/run.sh all` as a dry run (NABLA_GPU_DRY=1: no GPU) on a
# build tree and checks its stage logic: exit 0, a summary.md with every stage and the
# machine's facts, the GPU stages skipped with the reason, and at most 8 files in $OUT (the
# device tool brings back no more).
#   bash bench/gpu/dry_run_check.sh <build dir> <out dir>
set -uo pipefail
build=$1 out=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rm -rf "${out}"; mkdir -p "${out}"
NABLA_GPU_DRY=1 NABLA_GPU_BUNDLE_DIR="${build}" OUT="${out}" NABLA_GPU_DEADLINE_S=120 bash "${here}/run.sh" all
rc=$?
fail() { echo "gpu_run_dry: $*" >&2; exit 1; }
[ "${rc}" -eq 0 ] || fail "run.sh all exited ${rc}"
s=${out}/summary.md
[ -f "${s}" ] || fail "no ${s}"
for stage in "0 setup" "1 test_cuda" "1b launch resources" "2 parity" "3 memcheck" "3 racecheck" "4 bench ops" "4 bench models" "4 compare.py"; do
  grep -q "^| ${stage} | \(passed\|failed\|skipped\) | [0-9]* | " "${s}" || fail "summary.md has no row for '${stage}'"
done
grep -q "^| 0 setup | passed |" "${s}" || fail "setup did not pass: $(grep '^| 0 setup' "${s}")"
grep -q "^| 1 test_cuda | skipped | .*test_cuda ran" "${s}" || fail "test_cuda did not run: $(grep '^| 1 test_cuda' "${s}")"
for stage in "2 parity" "3 memcheck" "3 racecheck" "4 bench ops" "4 compare.py"; do
  grep -q "^| ${stage} | skipped | .*" "${s}" || fail "'${stage}' is not skipped in a dry run: $(grep "^| ${stage}" "${s}")"
done
grep -q "^| 3 memcheck | skipped | 0 | dry run (NABLA_GPU_DRY=1)" "${s}" || fail "memcheck's skip has no reason"
grep -q "^## Machine" "${s}" && grep -q "^- glibc: " "${s}" || fail "summary.md lacks the machine's facts"
n=$(find "${out}" -type f | wc -l)
[ "${n}" -le 8 ] || fail "${n} files in ${out}: the device tool brings back at most 8"
echo "gpu_run_dry: ok (${n} files in ${out})"
