#!/usr/bin/env python3
"""Per function: self instructions (Ir) and executed vector FMAs (vfmadd*/vfnmadd* on ymm), from a
callgrind file made with --dump-instr=yes and the binary's disassembly (objdump), and their ratio.

  benchmarks/kernels/fmas_per_function.py BINARY CALLGRIND                 # one run
  benchmarks/kernels/fmas_per_function.py BINARY CG_N CG_M N M             # (run of N steps - run of M) / (N - M)

BINARY is the (stripped: valgrind 3.19 cannot read Swift 6.3's DWARF 5) file callgrind ran, e.g.
  strip --strip-debug -o /tmp/r .build/release/recurrent
  valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file=/tmp/cg.3 /tmp/r bench ... --steps 3 --warmup 0
"""
import re, subprocess, sys, collections

def disasm(binary):
    kind = {}
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", binary], capture_output=True, text=True).stdout
    for line in out.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+(\S+)\s*(.*)", line)
        if m:
            addr = int(m.group(1), 16); mn = m.group(2); ops = m.group(3)
            kind[addr] = 'fma' if (mn.startswith('vfmadd') or mn.startswith('vfnmadd')) and 'ymm' in ops else 'other'
    return kind

def parse(path, kind):
    ir = collections.Counter(); fma = collections.Counter()
    names = {}; fn = None; skip = False; last = 0; obs = {}; inbin = False
    for line in open(path):
        line = line.rstrip('\n')
        if line.startswith('ob='):
            m = re.match(r"ob=\((\d+)\)(?: (.*))?", line)
            if m.group(2): obs[m.group(1)] = m.group(2)
            inbin = obs.get(m.group(1), '').endswith('/' + __import__('os').path.basename(sys.argv[1]))
            continue
        if line.startswith('fn='):
            m = re.match(r"fn=\((\d+)\)(?: (.*))?", line)
            if m:
                if m.group(2): names[m.group(1)] = m.group(2)
                fn = names.get(m.group(1), m.group(1))
            else: fn = line[3:]
            continue
        if line.startswith('cfn=') or line.startswith('cob='):
            m = re.match(r"c(fn|ob)=\((\d+)\)(?: (.*))?", line)
            if m and m.group(3): (names if m.group(1) == 'fn' else obs)[m.group(2)] = m.group(3)
            continue
        if line.startswith('calls='): skip = True; continue
        if not line or not (line[0] in '0123456789+-*' ): continue
        parts = line.split()
        a = parts[0]
        if a.startswith('0x'): addr = int(a, 16)
        elif a[0] == '+': addr = last + int(a[1:], 16) if a[1:].startswith('0x') else last + int(a[1:])
        elif a[0] == '-': addr = last - (int(a[1:], 16) if a[1:].startswith('0x') else int(a[1:]))
        elif a == '*': addr = last
        else: addr = int(a)
        last = addr
        if skip: skip = False; continue
        if len(parts) < 2: continue
        c = int(parts[2]) if len(parts) > 2 else 0
        ir[fn] += c
        if inbin and kind.get(addr) == 'fma': fma[fn] += c
    return ir, fma

binary = sys.argv[1]
kind = disasm(binary)
ir, fma = parse(sys.argv[2], kind)
scale = 1
if len(sys.argv) > 3:
    ir2, fma2 = parse(sys.argv[3], kind); n, m = int(sys.argv[4]), int(sys.argv[5])
    ir = collections.Counter({k: ir[k] - ir2.get(k, 0) for k in ir}); fma = collections.Counter({k: fma[k] - fma2.get(k, 0) for k in fma})
    scale = n - m
tot = sum(ir.values())
print(f"total self Ir per step {tot/scale:,.0f}; vector FMAs {sum(fma.values())/scale:,.0f}")
for f, c in sorted(ir.items(), key=lambda x: -x[1])[:14]:
    v = fma.get(f, 0)
    print(f"{c/scale:14,.0f} Ir {v/scale:12,.0f} vFMA {c/v if v else float('nan'):6.2f} Ir/vFMA  {f[:90]}")
