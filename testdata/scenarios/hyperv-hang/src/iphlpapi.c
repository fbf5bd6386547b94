/* ntdbg scenario "hyperv-hang": IPHLPAPI.DLL. An 8 KB local makes
 * UWOP_ALLOC_LARGE. */
typedef long LONG;
typedef unsigned long ULONG;
__declspec(dllimport) LONG NsiAllocateAndGetTable(ULONG Store, void *ModuleId, ULONG Object, void **Table);
__declspec(dllexport) __attribute__((noinline)) LONG InternalGetIfTable2Ex(ULONG Level, void **Table)
{
    volatile char rows[0x2000];
    rows[Level & 0xff] = 1;
    LONG status = NsiAllocateAndGetTable(1, (void *)rows, 7, Table);
    return status + rows[0];
}
__declspec(dllexport) __attribute__((noinline)) LONG GetIfTable2Ex(ULONG Level, void **Table)
{
    volatile LONG status = InternalGetIfTable2Ex(Level, Table);
    return status;
}
