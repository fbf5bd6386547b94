#!/usr/bin/env bash
# Builds the kernel modules of the "hyperv-hang" scenario from ksrc/ with
# clang-14 and lld-link-14: ntoskrnl.exe (ntkrnlmp.pdb), NETIO.SYS (netio.pdb),
# NDIS.SYS (ndis.pdb), nsiproxy.sys (nsiproxy.pdb) and FooDRV.sys (no PDB).
# Writes them with their linker maps and call-site lists into bin/, lays the
# images and PDBs into symbols/ in symbol-server layout, checks that every
# function of the seed's two kernel call chains calls the next at the
# expected place, and rewrites SHA256SUMS (over all of bin/, as build.sh
# does). build.sh runs it last; it can also run alone. It removes and
# rewrites only its own outputs. The outputs are committed; Go tests never
# run this script. Needs: clang-14 lld-14 llvm-14 python3.
#
# ksrc/nt9600.h is generated (go run ./testdata/gen/ntheader) and committed;
# this script does not regenerate it.
set -euo pipefail
cd "$(dirname "$0")"
export LC_ALL=C

# Image bases (Windows 8.1 puts the kernel at fffff803`xxxxx000 and drivers in
# fffff800`...; FooDRV's base is the seed's: its InitializeHandlerEx at
# fffff800`32712fc0 is FooDRV+3cfc0).
NT_BASE=0xFFFFF8030A600000
NETIO_BASE=0xFFFFF80000D6E000
NDIS_BASE=0xFFFFF80000E1D000
NSIPROXY_BASE=0xFFFFF80002455000
FOODRV_BASE=0xFFFFF800326D6000

CC="clang-14 --target=x86_64-pc-windows-msvc -c -O1 -g -gcodeview -ffreestanding -fasynchronous-unwind-tables \
  -fno-stack-protector -mno-stack-arg-probe -fno-optimize-sibling-calls -mno-incremental-linker-compatible \
  -mno-red-zone -ffile-compilation-dir=. -Iksrc"
AS="clang-14 --target=x86_64-pc-windows-msvc -c -g0"
LINK="lld-link-14 /machine:x64 /nodefaultlib /Brepro /pdbsourcepath:d:\\ntdbg\\scenarios\\hyperv-hang"

IMAGES="ntoskrnl.exe NETIO.SYS NDIS.SYS nsiproxy.sys FooDRV.sys"
PDBS="ntkrnlmp.pdb netio.pdb ndis.pdb nsiproxy.pdb"
for f in $IMAGES; do
  rm -rf "bin/$f" "bin/$f.calls" "bin/${f%.*}.map" "symbols/$f"
done
for p in $PDBS; do
  rm -rf "bin/$p" "symbols/$p"
done
rm -rf kobj
mkdir -p kobj bin symbols

# drv file base pdbstem objs...: a native driver entered at GsDriverEntry
# (pdbstem "-": no PDB, as a third-party driver ships).
drv() {
  local name=$1 base=$2 pdb=$3; shift 3
  local stem=${name%.*}
  local dbg=(/debug "/pdb:bin/$pdb.pdb" "/pdbaltpath:$pdb.pdb")
  if [ "$pdb" = - ]; then dbg=(); fi
  $LINK /driver /subsystem:native /entry:GsDriverEntry "/base:$base" "/out:bin/$name" "${dbg[@]}" \
    "/implib:kobj/$stem.lib" "/map:bin/$stem.map" "$@"
}

# ntoskrnl.exe: the kernel types go into its PDB whether used or not.
$AS ksrc/ntoskrnl_asm.S -o kobj/ntoskrnl_asm.obj
$CC -fno-eliminate-unused-debug-types ksrc/ntoskrnl.c -o kobj/ntoskrnl.obj
$LINK /debug /subsystem:native /entry:KiSystemStartup /base:$NT_BASE /out:bin/ntoskrnl.exe \
  /pdb:bin/ntkrnlmp.pdb /pdbaltpath:ntkrnlmp.pdb /implib:kobj/ntoskrnl.lib /map:bin/ntoskrnl.map \
  kobj/ntoskrnl_asm.obj kobj/ntoskrnl.obj
$CC -gline-tables-only ksrc/netio.c -o kobj/netio.obj
drv NETIO.SYS $NETIO_BASE netio kobj/netio.obj kobj/ntoskrnl.lib
$AS ksrc/ndis_asm.S -o kobj/ndis_asm.obj
$CC ksrc/ndis.c -o kobj/ndis.obj
drv NDIS.SYS $NDIS_BASE ndis kobj/ndis_asm.obj kobj/ndis.obj kobj/ntoskrnl.lib kobj/NETIO.lib
$CC -gline-tables-only ksrc/nsiproxy.c -o kobj/nsiproxy.obj
drv nsiproxy.sys $NSIPROXY_BASE nsiproxy kobj/nsiproxy.obj kobj/ntoskrnl.lib kobj/NETIO.lib
$AS ksrc/foodrv.S -o kobj/foodrv.obj
drv FooDRV.sys $FOODRV_BASE - /section:.fd1bss,R /section:.fd2bss,R /section:.fd3bss,R /section:.fd4bss,R \
  /section:.fd5bss,R kobj/foodrv.obj kobj/ntoskrnl.lib kobj/NDIS.lib
rm -rf kobj

# lld writes CheckSum 0; patch in the PE checksum as build.sh does.
python3 - $(for f in $IMAGES; do echo "bin/$f"; done) <<'PY'
import struct, sys
for path in sys.argv[1:]:
    data = bytearray(open(path, 'rb').read())
    pe = struct.unpack_from('<I', data, 0x3c)[0]
    off = pe + 24 + 64  # OptionalHeader.CheckSum
    struct.pack_into('<I', data, off, 0)
    s = 0
    for i in range(0, len(data) & ~1, 2):
        s += data[i] | data[i + 1] << 8
        s = (s & 0xffff) + (s >> 16)
    if len(data) & 1:
        s += data[-1]
        s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    struct.pack_into('<I', data, off, (s + len(data)) & 0xffffffff)
    open(path, 'wb').write(data)
PY

# Call sites, in build.sh's format: "<address of the call> <address after it>
# <target>", the target a hex address (direct call), "*0x..." (through memory
# at that address) or the operand (through a register or a pointer).
for f in $IMAGES; do
  llvm-objdump-14 -d "bin/$f" | awk '
    /^[0-9a-f]+: / {
      addr = substr($1, 1, length($1) - 1)
      if (pending != "") { print pending, addr, target; pending = "" }
      if ($0 ~ /\tcallq\t/) {
        split($0, parts, "\t")
        op = parts[3]
        if (op ~ /^0x/) { split(op, w, " "); target = w[1] }
        else if ($0 ~ /# 0x/) { target = "*" substr($0, index($0, "# 0x") + 2) }
        else { target = op }
        gsub(/ /, "", target)
        pending = addr
      }
    }' > "bin/$f.calls"
done

# The seed's chains: each caller calls the next function at the return
# address the seed shows (an offset, or for FooDRV an RVA), or anywhere when
# the seed shows none. "direct": a call to the function; "import": a call
# through the import slot of the function; "indirect": through a register or
# a pointer, and the only such call in the caller (the dump writer takes it).
python3 - <<'PY'
import re, sys
mods = {'nt': 'ntoskrnl', 'NETIO': 'NETIO', 'NDIS': 'NDIS', 'nsiproxy': 'nsiproxy', 'FooDRV': 'FooDRV'}
files = {'nt': 'ntoskrnl.exe', 'NETIO': 'NETIO.SYS', 'NDIS': 'NDIS.SYS', 'nsiproxy': 'nsiproxy.sys', 'FooDRV': 'FooDRV.sys'}
syms, imps, base, calls, funcs = {}, {}, {}, {}, {}
for m, stem in mods.items():
    syms[m], imps[m] = {}, {}
    for line in open('bin/%s.map' % stem):
        f = line.split()
        if len(f) >= 4 and ':' in f[0] and len(f[2]) == 16:
            va = int(f[2], 16)
            lib, _, dll = f[3].partition(':')
            if dll and lib and f[1].startswith('__imp_'):
                imps[m][va] = (f[1][6:], dll)
            elif not dll:
                syms[m][f[1]] = va
        mm = re.search(r'Preferred load address is ([0-9a-f]+)', line)
        if mm:
            base[m] = int(mm.group(1), 16)
    calls[m] = []
    for line in open('bin/%s.calls' % files[m]):
        at, ret, target = line.split()
        calls[m].append((int(at, 16), int(ret, 16), target))
    funcs[m] = sorted(syms[m].values())

def bounds(m, addr):
    later = [v for v in funcs[m] if v > addr]
    return addr, (min(later) if later else addr + 0x10000)

# (caller module, caller function, expected return offset or None, callee module, callee, kind)
chains = [
    # thread 0c08.43d8, from the top
    ('nt', 'KiSwapContext', 0x76, 'nt', 'SwapContext', 'direct'),
    ('nt', 'KiSwapThread', 0x14e, 'nt', 'KiSwapContext', 'direct'),
    ('nt', 'KiCommitThreadWait', 0x129, 'nt', 'KiSwapThread', 'direct'),
    ('nt', 'KeWaitForSingleObject', 0x373, 'nt', 'KiCommitThreadWait', 'direct'),
    ('NDIS', 'ndisQuerySetMiniportEx', None, 'nt', 'KeWaitForSingleObject', 'import'),
    ('NDIS', 'ndisQuerySetMiniport', None, 'NDIS', 'ndisQuerySetMiniportEx', 'direct'),
    ('NDIS', 'ndisIfGetMiniportStatistics', None, 'NDIS', 'ndisQuerySetMiniport', 'direct'),
    ('NDIS', 'ndisIfQueryFilterObject', None, 'NDIS', 'ndisIfGetMiniportStatistics', 'direct'),
    ('NDIS', 'ndisIfQueryObject', None, 'NDIS', 'ndisIfQueryFilterObject', 'direct'),
    ('NDIS', 'ndisNsiGetInterfaceRodInformation', None, 'NDIS', 'ndisIfQueryObject', 'direct'),
    ('NDIS', 'ndisNsiGetAllInterfaceInformation', None, 'NDIS', 'ndisNsiGetInterfaceRodInformation', 'direct'),
    ('NETIO', 'NsiEnumerateObjectsAllParametersEx', None, 'NDIS', 'ndisNsiGetAllInterfaceInformation', 'indirect'),
    ('nsiproxy', 'NsippEnumerateObjectsAllParameters', None, 'NETIO', 'NsiEnumerateObjectsAllParametersEx', 'import'),
    ('nsiproxy', 'NsippDispatch', None, 'nsiproxy', 'NsippEnumerateObjectsAllParameters', 'direct'),
    ('nt', 'IopSynchronousServiceTail', None, 'nsiproxy', 'NsippDispatch', 'indirect'),
    ('nt', 'IopXxxControlFile', None, 'nt', 'IopSynchronousServiceTail', 'direct'),
    ('nt', 'NtDeviceIoControlFile', None, 'nt', 'IopXxxControlFile', 'direct'),
    ('nt', 'KiSystemServiceCopyEnd', 0x13, 'nt', 'NtDeviceIoControlFile', 'indirect'),
    # thread 4.1114, from the top (below KeWaitForSingleObject)
    ('NDIS', 'NdisMSleep', 0x59, 'nt', 'KeWaitForSingleObject', 'import'),
    ('FooDRV', 'FooHwWaitForIdle', ('rva', 0x8ccbb), 'NDIS', 'NdisMSleep', 'import'),
    ('FooDRV', 'FooHwRestoreReceiveFilters', ('rva', 0x8bc8b), 'FooDRV', 'FooHwWaitForIdle', 'direct'),
    ('FooDRV', 'FooHwResetAdapter', ('rva', 0x70d79), 'FooDRV', 'FooHwRestoreReceiveFilters', 'direct'),
    ('FooDRV', 'FooResetWorkItem', ('rva', 0x14696), 'FooDRV', 'FooHwResetAdapter', 'direct'),
    ('nt', 'IopProcessWorkItem', 0x80, 'FooDRV', 'FooResetWorkItem', 'indirect'),
    ('nt', 'ExpWorkerThread', 0x69f, 'nt', 'IopProcessWorkItem', 'indirect'),
    ('nt', 'PspSystemThreadStartup', 0x58, 'nt', 'ExpWorkerThread', 'indirect'),
    ('nt', 'KiStartSystemThread', 0x16, 'nt', 'PspSystemThreadStartup', 'direct'),
    # the other waits that start in a system service
    ('nt', 'NtWaitForSingleObject', None, 'nt', 'ObWaitForSingleObject', 'direct'),
    ('nt', 'ObWaitForSingleObject', None, 'nt', 'KeWaitForSingleObject', 'direct'),
    ('nt', 'KeDelayExecutionThread', None, 'nt', 'KiCommitThreadWait', 'direct'),
    ('nt', 'KeWaitForMultipleObjects', None, 'nt', 'KiCommitThreadWait', 'direct'),
    ('nt', 'KeRemoveQueueEx', None, 'nt', 'KiCommitThreadWait', 'direct'),
    ('nt', 'ExpWorkerThread', 0x180, 'nt', 'KiCommitThreadWait', 'direct'),
]
exact = {'FooDRV': {'FooMiniportInitializeEx': 0x3cfc0, 'FooMiniportSetOptions': 0x75b10}}
bad = 0
for m, fns in exact.items():
    for fn, rva in fns.items():
        if syms[m][fn] - base[m] != rva:
            print('%s!%s is at RVA %x, not %x' % (m, fn, syms[m][fn] - base[m], rva)); bad += 1
for cm, cf, want, tm, tf, kind in chains:
    start, end = bounds(cm, syms[cm][cf])
    if cf == 'KiSystemServiceCopyEnd':
        start, end = syms[cm]['KiSystemServiceCopyEnd'], syms[cm]['KiSystemServiceExit']
    inside = [c for c in calls[cm] if start <= c[0] < end]
    target = syms[tm][tf]
    def ok(c):
        t = c[2]
        if kind == 'direct':
            return t.startswith('0x') and int(t, 16) == target
        if kind == 'import':
            return t.startswith('*0x') and imps[cm].get(int(t[3:], 16), ('',))[0] == tf
        return not t.startswith('0x') and not (t.startswith('*0x') and int(t[3:], 16) in imps[cm])
    hits = [c for c in inside if ok(c)]
    if kind == 'indirect' and len(hits) != 1:
        print('%s!%s: %d calls through a register or pointer, want 1' % (cm, cf, len(hits))); bad += 1; continue
    if not hits:
        print('%s!%s does not call %s!%s (%s)' % (cm, cf, tm, tf, kind)); bad += 1; continue
    if want is not None:
        rets = [c[1] - base[cm] if isinstance(want, tuple) else c[1] - start for c in hits]
        w = want[1] if isinstance(want, tuple) else want
        if w not in rets:
            print('%s!%s calls %s!%s returning to %s, want %x' % (cm, cf, tm, tf, [hex(r) for r in rets], w)); bad += 1
if bad:
    sys.exit('build-kernel.sh: %d call-chain checks failed' % bad)
print('call chains: %d checks passed' % (len(chains) + 2))
PY

# Symbol-server layout: name.pdb/<GUID><age>/name.pdb and name.sys/<TimeDateStamp><SizeOfImage>/name.sys.
for f in $IMAGES; do
  info=$(llvm-readobj-14 --file-headers --coff-debug-directory "bin/$f")
  stamp=$(echo "$info" | awk '/ImageFileHeader/{f=1} f&&/TimeDateStamp/{gsub(/[()]/,"",$NF); print $NF; exit}')
  size=$(echo "$info" | awk '/SizeOfImage/{print $2; exit}')
  idir=symbols/$f/$(printf '%08X%x' "$stamp" "$size")
  mkdir -p "$idir"
  cp "bin/$f" "$idir/$f"
  pdb=$(echo "$info" | awk '/PDBFileName/{print $2; exit}')
  if [ -n "$pdb" ]; then
    guid=$(echo "$info" | awk '/PDBGUID/{gsub(/[()]/,""); $1=""; print; exit}' | tr -d ' ')
    age=$(echo "$info" | awk '/PDBAge/{print $2; exit}')
    g=$guid
    gtext="${g:6:2}${g:4:2}${g:2:2}${g:0:2}${g:10:2}${g:8:2}${g:14:2}${g:12:2}${g:16:16}"
    pdir=symbols/$pdb/${gtext}$(printf '%X' "$age")
    mkdir -p "$pdir"
    cp "bin/$pdb" "$pdir/$pdb"
  fi
done
(cd bin && sha256sum * > ../SHA256SUMS)
echo "built: $IMAGES"
find symbols -type f | sort | grep -E "$(echo $IMAGES $PDBS | tr ' ' '|')"
