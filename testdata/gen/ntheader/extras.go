package main

// handWritten holds the types the debugger needs that the 9600 ISF does not
// have, written from docs (formats-spec.md §2.7, §6.7, §6.8) with their
// sources in comments.
const handWritten = `/* ---- Not in the ISF: written by hand ---- */

/* _KSWITCH_FRAME (formats-spec §6.8; ReactOS ndk amd64/ketypes.h). A thread
 * that is not running has KTHREAD.KernelStack pointing at one: SwapContext
 * pushes Rbp and allocates the rest below the return address into
 * KiSwapContext. */
struct _KSWITCH_FRAME {
    ULONGLONG P1Home;                                  /* 0x000 */
    ULONGLONG P2Home;                                  /* 0x008 */
    ULONGLONG P3Home;                                  /* 0x010 */
    ULONGLONG P4Home;                                  /* 0x018 */
    ULONGLONG P5Home;                                  /* 0x020 */
    UCHAR ApcBypass;                                   /* 0x028 */
    UCHAR Fill1[7];                                    /* 0x029 */
    ULONGLONG Rbp;                                     /* 0x030 */
    ULONGLONG Return;                                  /* 0x038 */
};
NT_SIZE(struct _KSWITCH_FRAME, 0x40);
NT_OFFSET(struct _KSWITCH_FRAME, P1Home, 0x0);
NT_OFFSET(struct _KSWITCH_FRAME, P2Home, 0x8);
NT_OFFSET(struct _KSWITCH_FRAME, P3Home, 0x10);
NT_OFFSET(struct _KSWITCH_FRAME, P4Home, 0x18);
NT_OFFSET(struct _KSWITCH_FRAME, P5Home, 0x20);
NT_OFFSET(struct _KSWITCH_FRAME, ApcBypass, 0x28);
NT_OFFSET(struct _KSWITCH_FRAME, Fill1, 0x29);
NT_OFFSET(struct _KSWITCH_FRAME, Rbp, 0x30);
NT_OFFSET(struct _KSWITCH_FRAME, Return, 0x38);
typedef struct _KSWITCH_FRAME KSWITCH_FRAME, *PKSWITCH_FRAME;

/* _KLDR_DATA_TABLE_ENTRY: the entries of PsLoadedModuleList. The 9600 ISF has
 * no such type (public PDBs of that build describe the list with
 * _LDR_DATA_TABLE_ENTRY, above, which agrees on every field up to 0x68).
 * 0x00-0x68 are formats-spec §6.7 (rizin's kldr structure); Flags and
 * LoadCount follow the WDK's; the rest, from SectionPointer on, is the later
 * public layout and UNCERTAIN for 9600: readers should use only the fields up
 * to LoadCount. */
struct _KLDR_DATA_TABLE_ENTRY {
    struct _LIST_ENTRY InLoadOrderLinks;               /* 0x000 */
    VOID *ExceptionTable;                              /* 0x010 */
    ULONG ExceptionTableSize;                          /* 0x018 */
    VOID *GpValue;                                     /* 0x020 */
    VOID *NonPagedDebugInfo;                           /* 0x028 */
    VOID *DllBase;                                     /* 0x030 */
    VOID *EntryPoint;                                  /* 0x038 */
    ULONG SizeOfImage;                                 /* 0x040 */
    struct _UNICODE_STRING FullDllName;                /* 0x048 */
    struct _UNICODE_STRING BaseDllName;                /* 0x058 */
    ULONG Flags;                                       /* 0x068 */
    USHORT LoadCount;                                  /* 0x06c */
    USHORT Reserved1;                                  /* 0x06e */
    VOID *SectionPointer;                              /* 0x070 */
    ULONG CheckSum;                                    /* 0x078 */
    ULONG CoverageSectionSize;                         /* 0x07c */
    VOID *CoverageSection;                             /* 0x080 */
    VOID *LoadedImports;                               /* 0x088 */
    VOID *Spare;                                       /* 0x090 */
    ULONG SizeOfImageNotRounded;                       /* 0x098 */
    ULONG TimeDateStamp;                               /* 0x09c */
};
NT_SIZE(struct _KLDR_DATA_TABLE_ENTRY, 0xa0);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, InLoadOrderLinks, 0x0);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, ExceptionTable, 0x10);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, ExceptionTableSize, 0x18);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, GpValue, 0x20);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, NonPagedDebugInfo, 0x28);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, DllBase, 0x30);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, EntryPoint, 0x38);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, SizeOfImage, 0x40);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, FullDllName, 0x48);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, BaseDllName, 0x58);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, Flags, 0x68);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, LoadCount, 0x6c);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, SectionPointer, 0x70);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, CheckSum, 0x78);
NT_OFFSET(struct _KLDR_DATA_TABLE_ENTRY, TimeDateStamp, 0x9c);
typedef struct _KLDR_DATA_TABLE_ENTRY KLDR_DATA_TABLE_ENTRY, *PKLDR_DATA_TABLE_ENTRY;

/* LIST_ENTRY64 and DBGKD_DEBUG_DATA_HEADER64 (formats-spec §2.7; wdbgexts.h). */
struct _LIST_ENTRY64 {
    ULONGLONG Flink;                                   /* 0x000 */
    ULONGLONG Blink;                                   /* 0x008 */
};
NT_SIZE(struct _LIST_ENTRY64, 0x10);
typedef struct _LIST_ENTRY64 LIST_ENTRY64, *PLIST_ENTRY64;

struct _DBGKD_DEBUG_DATA_HEADER64 {
    struct _LIST_ENTRY64 List;                         /* 0x000 */
    ULONG OwnerTag;                                    /* 0x010 'KDBG' = 0x4742444b */
    ULONG Size;                                        /* 0x014 */
};
NT_SIZE(struct _DBGKD_DEBUG_DATA_HEADER64, 0x18);
NT_OFFSET(struct _DBGKD_DEBUG_DATA_HEADER64, OwnerTag, 0x10);
NT_OFFSET(struct _DBGKD_DEBUG_DATA_HEADER64, Size, 0x14);
typedef struct _DBGKD_DEBUG_DATA_HEADER64 DBGKD_DEBUG_DATA_HEADER64, *PDBGKD_DEBUG_DATA_HEADER64;

/* _KDDEBUGGER_DATA64 ("KDBG") as Windows 8.1 has it: formats-spec §2.7
 * (qemu elf2dmp kdbg.h, volatility kdbg.json, wdbgexts.h), up to the 8.1
 * addition OffsetKThreadWaitReason; Header.Size is 0x360. Pointers are
 * ULONGLONG, as in wdbgexts.h. */
struct _KDDEBUGGER_DATA64 {
    struct _DBGKD_DEBUG_DATA_HEADER64 Header;          /* 0x000 */
    ULONGLONG KernBase;                                /* 0x018 */
    ULONGLONG BreakpointWithStatus;                    /* 0x020 */
    ULONGLONG SavedContext;                            /* 0x028 */
    USHORT ThCallbackStack;                            /* 0x030 */
    USHORT NextCallback;                               /* 0x032 */
    USHORT FramePointer;                               /* 0x034 */
    USHORT PaeEnabled : 1;                             /* 0x036 bit 0 */
    USHORT : 15;
    ULONGLONG KiCallUserMode;                          /* 0x038 */
    ULONGLONG KeUserCallbackDispatcher;                /* 0x040 */
    ULONGLONG PsLoadedModuleList;                      /* 0x048 */
    ULONGLONG PsActiveProcessHead;                     /* 0x050 */
    ULONGLONG PspCidTable;                             /* 0x058 */
    ULONGLONG ExpSystemResourcesList;                  /* 0x060 */
    ULONGLONG ExpPagedPoolDescriptor;                  /* 0x068 */
    ULONGLONG ExpNumberOfPagedPools;                   /* 0x070 */
    ULONGLONG KeTimeIncrement;                         /* 0x078 */
    ULONGLONG KeBugCheckCallbackListHead;              /* 0x080 */
    ULONGLONG KiBugcheckData;                          /* 0x088 */
    ULONGLONG IopErrorLogListHead;                     /* 0x090 */
    ULONGLONG ObpRootDirectoryObject;                  /* 0x098 */
    ULONGLONG ObpTypeObjectType;                       /* 0x0a0 */
    ULONGLONG MmSystemCacheStart;                      /* 0x0a8 */
    ULONGLONG MmSystemCacheEnd;                        /* 0x0b0 */
    ULONGLONG MmSystemCacheWs;                         /* 0x0b8 */
    ULONGLONG MmPfnDatabase;                           /* 0x0c0 */
    ULONGLONG MmSystemPtesStart;                       /* 0x0c8 */
    ULONGLONG MmSystemPtesEnd;                         /* 0x0d0 */
    ULONGLONG MmSubsectionBase;                        /* 0x0d8 */
    ULONGLONG MmNumberOfPagingFiles;                   /* 0x0e0 */
    ULONGLONG MmLowestPhysicalPage;                    /* 0x0e8 */
    ULONGLONG MmHighestPhysicalPage;                   /* 0x0f0 */
    ULONGLONG MmNumberOfPhysicalPages;                 /* 0x0f8 */
    ULONGLONG MmMaximumNonPagedPoolInBytes;            /* 0x100 */
    ULONGLONG MmNonPagedSystemStart;                   /* 0x108 */
    ULONGLONG MmNonPagedPoolStart;                     /* 0x110 */
    ULONGLONG MmNonPagedPoolEnd;                       /* 0x118 */
    ULONGLONG MmPagedPoolStart;                        /* 0x120 */
    ULONGLONG MmPagedPoolEnd;                          /* 0x128 */
    ULONGLONG MmPagedPoolInformation;                  /* 0x130 */
    ULONGLONG MmPageSize;                              /* 0x138 */
    ULONGLONG MmSizeOfPagedPoolInBytes;                /* 0x140 */
    ULONGLONG MmTotalCommitLimit;                      /* 0x148 */
    ULONGLONG MmTotalCommittedPages;                   /* 0x150 */
    ULONGLONG MmSharedCommit;                          /* 0x158 */
    ULONGLONG MmDriverCommit;                          /* 0x160 */
    ULONGLONG MmProcessCommit;                         /* 0x168 */
    ULONGLONG MmPagedPoolCommit;                       /* 0x170 */
    ULONGLONG MmExtendedCommit;                        /* 0x178 */
    ULONGLONG MmZeroedPageListHead;                    /* 0x180 */
    ULONGLONG MmFreePageListHead;                      /* 0x188 */
    ULONGLONG MmStandbyPageListHead;                   /* 0x190 */
    ULONGLONG MmModifiedPageListHead;                  /* 0x198 */
    ULONGLONG MmModifiedNoWritePageListHead;           /* 0x1a0 */
    ULONGLONG MmAvailablePages;                        /* 0x1a8 */
    ULONGLONG MmResidentAvailablePages;                /* 0x1b0 */
    ULONGLONG PoolTrackTable;                          /* 0x1b8 */
    ULONGLONG NonPagedPoolDescriptor;                  /* 0x1c0 */
    ULONGLONG MmHighestUserAddress;                    /* 0x1c8 */
    ULONGLONG MmSystemRangeStart;                      /* 0x1d0 */
    ULONGLONG MmUserProbeAddress;                      /* 0x1d8 */
    ULONGLONG KdPrintCircularBuffer;                   /* 0x1e0 */
    ULONGLONG KdPrintCircularBufferEnd;                /* 0x1e8 */
    ULONGLONG KdPrintWritePointer;                     /* 0x1f0 */
    ULONGLONG KdPrintRolloverCount;                    /* 0x1f8 */
    ULONGLONG MmLoadedUserImageList;                   /* 0x200 */
    ULONGLONG NtBuildLab;                              /* 0x208 */
    ULONGLONG KiNormalSystemCall;                      /* 0x210 */
    ULONGLONG KiProcessorBlock;                        /* 0x218 */
    ULONGLONG MmUnloadedDrivers;                       /* 0x220 */
    ULONGLONG MmLastUnloadedDriver;                    /* 0x228 */
    ULONGLONG MmTriageActionTaken;                     /* 0x230 */
    ULONGLONG MmSpecialPoolTag;                        /* 0x238 */
    ULONGLONG KernelVerifier;                          /* 0x240 */
    ULONGLONG MmVerifierData;                          /* 0x248 */
    ULONGLONG MmAllocatedNonPagedPool;                 /* 0x250 */
    ULONGLONG MmPeakCommitment;                        /* 0x258 */
    ULONGLONG MmTotalCommitLimitMaximum;               /* 0x260 */
    ULONGLONG CmNtCSDVersion;                          /* 0x268 */
    ULONGLONG MmPhysicalMemoryBlock;                   /* 0x270 */
    ULONGLONG MmSessionBase;                           /* 0x278 */
    ULONGLONG MmSessionSize;                           /* 0x280 */
    ULONGLONG MmSystemParentTablePage;                 /* 0x288 */
    ULONGLONG MmVirtualTranslationBase;                /* 0x290 */
    USHORT OffsetKThreadNextProcessor;                 /* 0x298 */
    USHORT OffsetKThreadTeb;                           /* 0x29a */
    USHORT OffsetKThreadKernelStack;                   /* 0x29c */
    USHORT OffsetKThreadInitialStack;                  /* 0x29e */
    USHORT OffsetKThreadApcProcess;                    /* 0x2a0 */
    USHORT OffsetKThreadState;                         /* 0x2a2 */
    USHORT OffsetKThreadBStore;                        /* 0x2a4 */
    USHORT OffsetKThreadBStoreLimit;                   /* 0x2a6 */
    USHORT SizeEProcess;                               /* 0x2a8 */
    USHORT OffsetEprocessPeb;                          /* 0x2aa */
    USHORT OffsetEprocessParentCID;                    /* 0x2ac */
    USHORT OffsetEprocessDirectoryTableBase;           /* 0x2ae */
    USHORT SizePrcb;                                   /* 0x2b0 */
    USHORT OffsetPrcbDpcRoutine;                       /* 0x2b2 */
    USHORT OffsetPrcbCurrentThread;                    /* 0x2b4 */
    USHORT OffsetPrcbMhz;                              /* 0x2b6 */
    USHORT OffsetPrcbCpuType;                          /* 0x2b8 */
    USHORT OffsetPrcbVendorString;                     /* 0x2ba */
    USHORT OffsetPrcbProcStateContext;                 /* 0x2bc */
    USHORT OffsetPrcbNumber;                           /* 0x2be */
    USHORT SizeEThread;                                /* 0x2c0 */
    ULONGLONG KdPrintCircularBufferPtr;                /* 0x2c8 */
    ULONGLONG KdPrintBufferSize;                       /* 0x2d0 */
    ULONGLONG KeLoaderBlock;                           /* 0x2d8 */
    USHORT SizePcr;                                    /* 0x2e0 */
    USHORT OffsetPcrSelfPcr;                           /* 0x2e2 */
    USHORT OffsetPcrCurrentPrcb;                       /* 0x2e4 */
    USHORT OffsetPcrContainedPrcb;                     /* 0x2e6 */
    USHORT OffsetPcrInitialBStore;                     /* 0x2e8 */
    USHORT OffsetPcrBStoreLimit;                       /* 0x2ea */
    USHORT OffsetPcrInitialStack;                      /* 0x2ec */
    USHORT OffsetPcrStackLimit;                        /* 0x2ee */
    USHORT OffsetPrcbPcrPage;                          /* 0x2f0 */
    USHORT OffsetPrcbProcStateSpecialReg;              /* 0x2f2 */
    USHORT GdtR0Code;                                  /* 0x2f4 */
    USHORT GdtR0Data;                                  /* 0x2f6 */
    USHORT GdtR0Pcr;                                   /* 0x2f8 */
    USHORT GdtR3Code;                                  /* 0x2fa */
    USHORT GdtR3Data;                                  /* 0x2fc */
    USHORT GdtR3Teb;                                   /* 0x2fe */
    USHORT GdtLdt;                                     /* 0x300 */
    USHORT GdtTss;                                     /* 0x302 */
    USHORT Gdt64R3CmCode;                              /* 0x304 */
    USHORT Gdt64R3CmTeb;                               /* 0x306 */
    ULONGLONG IopNumTriageDumpDataBlocks;              /* 0x308 */
    ULONGLONG IopTriageDumpDataBlocks;                 /* 0x310 */
    ULONGLONG VfCrashDataBlock;                        /* 0x318 */
    ULONGLONG MmBadPagesDetected;                      /* 0x320 */
    ULONGLONG MmZeroedPageSingleBitErrorsDetected;     /* 0x328 */
    ULONGLONG EtwpDebuggerData;                        /* 0x330 */
    USHORT OffsetPrcbContext;                          /* 0x338 */
    USHORT OffsetPrcbMaxBreakpoints;                   /* 0x33a */
    USHORT OffsetPrcbMaxWatchpoints;                   /* 0x33c */
    ULONG OffsetKThreadStackLimit;                     /* 0x340 */
    ULONG OffsetKThreadStackBase;                      /* 0x344 */
    ULONG OffsetKThreadQueueListEntry;                 /* 0x348 */
    ULONG OffsetEThreadIrpList;                        /* 0x34c */
    USHORT OffsetPrcbIdleThread;                       /* 0x350 */
    USHORT OffsetPrcbNormalDpcState;                   /* 0x352 */
    USHORT OffsetPrcbDpcStack;                         /* 0x354 */
    USHORT OffsetPrcbIsrStack;                         /* 0x356 */
    USHORT SizeKDPC_STACK_FRAME;                       /* 0x358 */
    USHORT OffsetKPriQueueThreadListHead;              /* 0x35a */
    USHORT OffsetKThreadWaitReason;                    /* 0x35c */
};
NT_SIZE(struct _KDDEBUGGER_DATA64, 0x360);
NT_OFFSET(struct _KDDEBUGGER_DATA64, KernBase, 0x18);
NT_OFFSET(struct _KDDEBUGGER_DATA64, KiCallUserMode, 0x38);
NT_OFFSET(struct _KDDEBUGGER_DATA64, PsLoadedModuleList, 0x48);
NT_OFFSET(struct _KDDEBUGGER_DATA64, PsActiveProcessHead, 0x50);
NT_OFFSET(struct _KDDEBUGGER_DATA64, PspCidTable, 0x58);
NT_OFFSET(struct _KDDEBUGGER_DATA64, KeTimeIncrement, 0x78);
NT_OFFSET(struct _KDDEBUGGER_DATA64, KiBugcheckData, 0x88);
NT_OFFSET(struct _KDDEBUGGER_DATA64, ObpRootDirectoryObject, 0x98);
NT_OFFSET(struct _KDDEBUGGER_DATA64, MmPfnDatabase, 0xc0);
NT_OFFSET(struct _KDDEBUGGER_DATA64, MmHighestUserAddress, 0x1c8);
NT_OFFSET(struct _KDDEBUGGER_DATA64, MmSystemRangeStart, 0x1d0);
NT_OFFSET(struct _KDDEBUGGER_DATA64, MmLoadedUserImageList, 0x200);
NT_OFFSET(struct _KDDEBUGGER_DATA64, NtBuildLab, 0x208);
NT_OFFSET(struct _KDDEBUGGER_DATA64, KiProcessorBlock, 0x218);
NT_OFFSET(struct _KDDEBUGGER_DATA64, MmUnloadedDrivers, 0x220);
NT_OFFSET(struct _KDDEBUGGER_DATA64, MmPhysicalMemoryBlock, 0x270);
NT_OFFSET(struct _KDDEBUGGER_DATA64, MmVirtualTranslationBase, 0x290);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetKThreadNextProcessor, 0x298);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetKThreadTeb, 0x29a);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetKThreadKernelStack, 0x29c);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetKThreadInitialStack, 0x29e);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetKThreadApcProcess, 0x2a0);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetKThreadState, 0x2a2);
NT_OFFSET(struct _KDDEBUGGER_DATA64, SizeEProcess, 0x2a8);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetEprocessPeb, 0x2aa);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetEprocessParentCID, 0x2ac);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetEprocessDirectoryTableBase, 0x2ae);
NT_OFFSET(struct _KDDEBUGGER_DATA64, SizePrcb, 0x2b0);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetPrcbCurrentThread, 0x2b4);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetPrcbProcStateContext, 0x2bc);
NT_OFFSET(struct _KDDEBUGGER_DATA64, SizeEThread, 0x2c0);
NT_OFFSET(struct _KDDEBUGGER_DATA64, KdPrintCircularBufferPtr, 0x2c8);
NT_OFFSET(struct _KDDEBUGGER_DATA64, KeLoaderBlock, 0x2d8);
NT_OFFSET(struct _KDDEBUGGER_DATA64, SizePcr, 0x2e0);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetPcrSelfPcr, 0x2e2);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetPcrCurrentPrcb, 0x2e4);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetPcrContainedPrcb, 0x2e6);
NT_OFFSET(struct _KDDEBUGGER_DATA64, Gdt64R3CmTeb, 0x306);
NT_OFFSET(struct _KDDEBUGGER_DATA64, IopNumTriageDumpDataBlocks, 0x308);
NT_OFFSET(struct _KDDEBUGGER_DATA64, VfCrashDataBlock, 0x318);
NT_OFFSET(struct _KDDEBUGGER_DATA64, EtwpDebuggerData, 0x330);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetPrcbContext, 0x338);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetPrcbMaxBreakpoints, 0x33a);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetPrcbMaxWatchpoints, 0x33c);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetKThreadStackLimit, 0x340);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetKThreadStackBase, 0x344);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetKThreadQueueListEntry, 0x348);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetEThreadIrpList, 0x34c);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetPrcbIdleThread, 0x350);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetPrcbNormalDpcState, 0x352);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetPrcbDpcStack, 0x354);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetPrcbIsrStack, 0x356);
NT_OFFSET(struct _KDDEBUGGER_DATA64, SizeKDPC_STACK_FRAME, 0x358);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetKPriQueueThreadListHead, 0x35a);
NT_OFFSET(struct _KDDEBUGGER_DATA64, OffsetKThreadWaitReason, 0x35c);
typedef struct _KDDEBUGGER_DATA64 KDDEBUGGER_DATA64, *PKDDEBUGGER_DATA64;
`
