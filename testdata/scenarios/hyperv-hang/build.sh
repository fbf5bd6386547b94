#!/usr/bin/env bash
# Builds the "hyperv-hang" scenario's modules from src/ with clang-14 and
# lld-link-14, writes bin/ (images, PDBs, linker maps, call-site lists) and
# SHA256SUMS, and lays the images and PDBs into symbols/ in symbol-server
# layout. The outputs are committed; Go tests never run this script.
# Needs: clang-14 lld-14 llvm-14 (llvm-rc, llvm-objdump, llvm-readobj) python3.
set -euo pipefail
cd "$(dirname "$0")"
CC="clang-14 --target=x86_64-pc-windows-msvc -c -O1 -g -gcodeview -ffreestanding -fasynchronous-unwind-tables \
  -fno-stack-protector -mno-stack-arg-probe -fno-optimize-sibling-calls -mno-incremental-linker-compatible \
  -ffile-compilation-dir=."
CXX="$CC -fno-exceptions -fno-rtti -std=c++17"
LINK="lld-link-14 /machine:x64 /nodefaultlib /debug /Brepro /pdbsourcepath:d:\\ntdbg\\scenarios\\hyperv-hang"
rm -rf obj bin symbols
mkdir -p obj bin symbols
dll() { # file base pdbstem objs...
  local name=$1 base=$2 pdb=$3; shift 3
  local stem=${name%.*}
  $LINK /dll /noentry /base:$base /out:bin/$name /pdb:bin/$pdb.pdb /pdbaltpath:$pdb.pdb /implib:obj/$stem.lib \
    /map:bin/$stem.map "$@"
}
# ntdll: the system-call stubs come first in .text (NtDeviceIoControlFile at RVA 0x1240).
clang-14 --target=x86_64-pc-windows-msvc -c -g0 src/ntdll_stubs.S -o obj/ntdll_stubs.obj
$CC src/ntdll.c -o obj/ntdll.obj
dll ntdll.dll 0x7FFF97C30000 ntdll obj/ntdll_stubs.obj obj/ntdll.obj
$CC src/kernelbase.c -o obj/kernelbase.obj
dll KERNELBASE.dll 0x7FFF95230000 kernelbase obj/kernelbase.obj obj/ntdll.lib
$CC src/kernel32.c -o obj/kernel32.obj
dll kernel32.dll 0x7FFF95E00000 kernel32 obj/kernel32.obj
$CC src/nsi.c -o obj/nsi.obj
dll nsi.dll 0x7FFF97090000 nsi obj/nsi.obj obj/ntdll.lib
$CC src/iphlpapi.c -o obj/iphlpapi.obj
dll IPHLPAPI.DLL 0x7FFF94F20000 iphlpapi obj/iphlpapi.obj obj/nsi.lib
$CXX src/rpcrt4.cpp -o obj/rpcrt4.obj
dll rpcrt4.dll 0x7FFF96F10000 rpcrt4 obj/rpcrt4.obj
$CXX -Isrc src/vmms.cpp -o obj/vmms.obj
llvm-rc-14 -no-cpp /fo obj/vmms.res src/vmms.rc
$LINK /subsystem:console /entry:wmainCRTStartup /base:0x7FF776A40000 /out:bin/vmms.exe /pdb:bin/vmms.pdb /pdbaltpath:vmms.pdb \
  /map:bin/vmms.map obj/vmms.obj obj/vmms.res obj/IPHLPAPI.lib obj/ntdll.lib obj/KERNELBASE.lib
rm -rf obj

# lld writes CheckSum 0; Windows' images carry the PE checksum (the
# debugger shows it and a symbol server does not care). Patch it in.
python3 - bin/*.dll bin/*.DLL bin/vmms.exe <<'PY'
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

# Call sites for the scenario writer: "<address of the call> <address after it> <target>",
# the target being a hex address (direct call), "*0x..." (through memory) or "*reg".
for img in bin/*.dll bin/*.DLL bin/vmms.exe; do
  llvm-objdump-14 -d "$img" | awk '
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
    }' > "bin/${img#bin/}.calls"
done

# Symbol-server layout: name.pdb/<GUID><age>/name.pdb and name.dll/<TimeDateStamp><SizeOfImage>/name.dll.
for img in bin/*.dll bin/*.DLL bin/vmms.exe; do
  file=${img#bin/}
  info=$(llvm-readobj-14 --file-headers --coff-debug-directory "$img")
  stamp=$(echo "$info" | awk '/ImageFileHeader/{f=1} f&&/TimeDateStamp/{gsub(/[()]/,"",$NF); print $NF; exit}')
  size=$(echo "$info" | awk '/SizeOfImage/{print $2; exit}')
  pdb=$(echo "$info" | awk '/PDBFileName/{print $2; exit}')
  guid=$(echo "$info" | awk '/PDBGUID/{gsub(/[()]/,""); $1=""; print; exit}' | tr -d ' ')
  age=$(echo "$info" | awk '/PDBAge/{print $2; exit}')
  # RSDS GUID bytes -> GUID text: Data1..Data3 are little-endian.
  g=$guid
  gtext="${g:6:2}${g:4:2}${g:2:2}${g:0:2}${g:10:2}${g:8:2}${g:14:2}${g:12:2}${g:16:16}"
  idir=symbols/$file/$(printf '%08X%x' "$stamp" "$size")
  pdir=symbols/$pdb/${gtext}$(printf '%X' "$age")
  mkdir -p "$idir" "$pdir"
  cp "$img" "$idir/$file"
  cp "bin/$pdb" "$pdir/$pdb"
done
(cd bin && sha256sum * > ../SHA256SUMS)
echo "built: $(ls bin | tr '\n' ' ')"
find symbols -type f | sort
./build-kernel.sh
