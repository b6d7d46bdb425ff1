#!/usr/bin/env python3
"""Launch-resource check of libnabla.so's CUDA kernels, read from the library's own SASS.

    python3 tests/check_launch_resources.py --lib build/libnabla.so [--cuobjdump PATH] [--arch sm_90]

Every nabla kernel must declare __launch_bounds__(N) (its launcher never exceeds N), and with
the registers, static shared memory and stack ptxas gave it, a block of N threads must fit one
multiprocessor of the architecture in the library:
  - registers: roundup(regs * 32, 256) per warp (the allocation unit: 256 registers a warp,
    i.e. 8 a thread) times ceil(N / 32) warps <= the 64 Ki registers of an SM (sm_70..sm_90);
    a block over that fails to launch ("too many resources requested for launch");
  - static shared memory <= 48 KiB (more needs dynamic shared memory and an opt-in);
  - stack frame <= 1 KiB a thread (cudaLimitStackSize's default; more is spilling that
    costs memory traffic, and a launch may need the limit raised);
  - N <= 1024 threads.
The bound comes from the ELF's .nv.info.<kernel> section (EIATTR_MAX_THREADS, written by
__launch_bounds__), the rest from `cuobjdump --dump-resource-usage`. Kernels of the libraries
nabla compiles in (CUB, Thrust, CUTLASS/CuTe: mangled names in the namespaces cub, thrust,
cutlass, cute, or CUB's versioned CUB_xxxxxx_ namespaces) are listed as skipped: their
launchers are not nabla's. Every other kernel is nabla's, whatever its namespace.

The library must also hold sm_90 SASS and sm_90 PTX (CMake's architecture "90"), so the
H100/H200 runs the compiled code and later chips can JIT the PTX.

Exit status: 0 all fit, 1 offenders (listed), 2 usage/parse error, 77 skipped (no cuobjdump,
or no CUDA code in the library): ctest's SKIP_RETURN_CODE.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

SKIP = 77
# per-architecture limits; sm_70 .. sm_90 share them (CUDA C Programming Guide, table of
# technical specifications per compute capability)
LIMITS = {"regs_per_sm": 65536, "reg_unit_per_warp": 256, "max_regs_per_thread": 255,
          "max_threads_per_block": 1024, "static_smem": 48 * 1024, "stack": 1024}
KNOWN_ARCHS = {"sm_70", "sm_72", "sm_75", "sm_80", "sm_86", "sm_87", "sm_89", "sm_90", "sm_90a"}
LIBRARY_PREFIX = re.compile(r"^_ZN(3cub|6thrust|7cutlass|4cute)|^_ZN\d+CUB_\d+_|^_ZN3cub\d*CUB_")


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(SKIP)


def find_cuobjdump(given):
    cands = [given, os.environ.get("CUOBJDUMP"), shutil.which("cuobjdump"),
             os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin", "cuobjdump"),
             "/usr/local/cuda/bin/cuobjdump"]
    try:  # NVIDIA's pip wheel (nvidia-cuda-cuobjdump: nvidia/cu13/bin/cuobjdump)
        import nvidia  # noqa: F401
        for p in nvidia.__path__:
            cands += glob.glob(os.path.join(p, "*", "bin", "cuobjdump"))
    except ImportError:
        pass
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def resource_usage(cuobjdump, lib):
    """{(arch, kernel): {REG, STACK, SHARED, LOCAL}} and the ELF and PTX archs."""
    out = subprocess.run([cuobjdump, "--dump-resource-usage", lib], capture_output=True, text=True)
    if out.returncode != 0:
        if "does not contain device code" in out.stderr or "no device code" in out.stderr.lower():
            skip(f"{lib} holds no CUDA code (a CPU-only build)")
        sys.exit(f"check_launch_resources: cuobjdump --dump-resource-usage {lib} failed: {out.stderr.strip()}")
    res, kind, arch, fn = {}, None, None, None
    elf_archs, ptx_archs = set(), set()
    for line in out.stdout.splitlines():
        if line.startswith("Fatbin elf code"):
            kind = "elf"
        elif line.startswith("Fatbin ptx code"):
            kind = "ptx"
        elif line.startswith("arch = "):
            arch = line.split("=", 1)[1].strip()
            (elf_archs if kind == "elf" else ptx_archs).add(arch)
        elif line.startswith(" Function "):
            fn = line[len(" Function "):].rstrip(":")
        elif fn and "REG:" in line:
            vals = dict(kv.split(":", 1) for kv in line.split() if ":" in kv)
            res[(arch, fn)] = {k: int(vals.get(k, "0")) for k in ("REG", "STACK", "SHARED", "LOCAL")}
            fn = None
    return res, elf_archs, ptx_archs


def max_threads(cuobjdump, lib):
    """{(arch, kernel): N} from EIATTR_MAX_THREADS in each .nv.info.<kernel> section."""
    bounds, arch, sec, attr = {}, None, None, None
    with subprocess.Popen([cuobjdump, "-elf", lib], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True, bufsize=1 << 20) as p:
        for line in p.stdout:
            if line.startswith("arch = "):
                arch = line.split("=", 1)[1].strip()
            elif line.startswith(".nv.info."):
                sec, attr = line.strip()[len(".nv.info."):], None
            elif line.startswith(".") or line.startswith("Fatbin"):
                sec = None
            elif sec is not None:
                s = line.strip()
                if s.startswith("Attribute:"):
                    attr = s.split(":", 1)[1].strip()
                elif attr == "EIATTR_MAX_THREADS" and s.startswith("Value:"):
                    dims = [int(v, 16) for v in s.split(":", 1)[1].split()]
                    n = 1
                    for d in dims:
                        n *= d
                    bounds[(arch, sec)] = n
                    attr = None
    return bounds


def demangle(names):
    cxxfilt = shutil.which("c++filt")
    if not cxxfilt or not names:
        return {n: n for n in names}
    out = subprocess.run([cxxfilt], input="\n".join(names), capture_output=True, text=True).stdout.splitlines()
    return dict(zip(names, out)) if len(out) == len(names) else {n: n for n in names}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib", required=True, help="libnabla.so")
    ap.add_argument("--cuobjdump", help="cuobjdump (default: $CUOBJDUMP, PATH, the CUDA toolkit, NVIDIA's pip wheel)")
    ap.add_argument("--arch", default="sm_90", help="the SASS and PTX architecture the library must hold")
    ap.add_argument("--quiet", action="store_true", help="print offenders only, not the whole table")
    a = ap.parse_args()

    if not os.path.isfile(a.lib):
        sys.exit(f"check_launch_resources: --lib {a.lib}: no such file")
    cuobjdump = find_cuobjdump(a.cuobjdump)
    if not cuobjdump:
        skip("no cuobjdump (not in the CUDA toolkit here, not on PATH, no $CUOBJDUMP, no nvidia-cuda-cuobjdump wheel)")
    res, elf_archs, ptx_archs = resource_usage(cuobjdump, a.lib)
    if not res:
        skip(f"{a.lib} holds no CUDA kernels (a CPU-only build)")
    bounds = max_threads(cuobjdump, a.lib)

    problems = []
    if a.arch not in elf_archs:
        problems.append(f"the library holds no {a.arch} SASS (ELF archs: {sorted(elf_archs)})")
    if a.arch not in ptx_archs:
        problems.append(f"the library holds no {a.arch} PTX (PTX archs: {sorted(ptx_archs)}): later chips could not run it")
    for arch in elf_archs - KNOWN_ARCHS:
        problems.append(f"{arch}: no limits table here (check LIMITS before trusting this run)")

    L = LIMITS
    names = demangle(sorted({fn for _, fn in res}))
    rows, offenders, skipped = [], [], 0
    for (arch, fn), r in sorted(res.items(), key=lambda kv: names[kv[0][1]]):
        if LIBRARY_PREFIX.search(fn):
            skipped += 1
            continue
        n = bounds.get((arch, fn))
        why = []
        regs_block = None
        if n is None:
            why.append("no __launch_bounds__")
        else:
            warps = -(-n // 32)
            per_warp = -(-r["REG"] * 32 // L["reg_unit_per_warp"]) * L["reg_unit_per_warp"]
            regs_block = per_warp * warps
            if n > L["max_threads_per_block"]:
                why.append(f"bound {n} > {L['max_threads_per_block']} threads")
            if regs_block > L["regs_per_sm"]:
                why.append(f"{regs_block} registers a block > {L['regs_per_sm']}")
        if r["REG"] > L["max_regs_per_thread"]:
            why.append(f"{r['REG']} registers a thread > {L['max_regs_per_thread']}")
        if r["SHARED"] > L["static_smem"]:
            why.append(f"static shared {r['SHARED']} B > {L['static_smem']} B")
        if r["STACK"] > L["stack"]:
            why.append(f"stack {r['STACK']} B a thread > {L['stack']} B")
        rows.append((names[fn], arch, r["REG"], n, regs_block, r["SHARED"], r["STACK"], "; ".join(why) or "ok"))
        if why:
            offenders.append(rows[-1])

    def table(rs):
        print(f"{'kernel':<90} {'arch':<6} {'regs':>4} {'bound':>5} {'regs/blk':>8} {'smem B':>7} {'stack':>5}  status")
        for k, arch, regs, n, rb, smem, stack, st in rs:
            k = k if len(k) <= 90 else k[:87] + "..."
            print(f"{k:<90} {arch:<6} {regs:>4} {n if n is not None else '-':>5} {rb if rb is not None else '-':>8} "
                  f"{smem:>7} {stack:>5}  {st}")

    if not a.quiet:
        table(rows)
    if offenders:
        print(f"\n{len(offenders)} offenders:")
        table(offenders)
    for p in problems:
        print(f"problem: {p}")
    unbound = sum(1 for o in offenders if "no __launch_bounds__" in o[7])
    print(f"launch resources: {len(rows)} nabla kernels in {sorted(elf_archs)} SASS (+ PTX {sorted(ptx_archs)}), "
          f"{len(offenders)} offenders ({unbound} without __launch_bounds__), {skipped} library-internal "
          f"(CUB/Thrust) skipped; limits: {L['regs_per_sm']} registers an SM in units of {L['reg_unit_per_warp']} a warp, "
          f"{L['static_smem']} B static shared, {L['stack']} B stack; cuobjdump {cuobjdump}")
    return 1 if offenders or problems else 0


if __name__ == "__main__":
    sys.exit(main())
