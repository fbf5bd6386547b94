/* ntdbg scenario "hyperv-hang": the public Windows 8.1 / Server 2012 R2 x64
 * layouts of the user-mode structures a debugger reads by field name
 * (docs/formats-spec.md 6.7). Shared by ntdll.c and vmms.cpp so that both
 * PDBs define the critical-section types, as the real ones do. */
#ifndef NTDBG_NT_H
#define NTDBG_NT_H
typedef unsigned char UCHAR, BOOLEAN;
typedef unsigned short USHORT, WCHAR;
typedef unsigned long ULONG;
typedef long LONG, NTSTATUS;
typedef long long LONGLONG;
typedef unsigned long long ULONGLONG, ULONG_PTR, SIZE_T;
typedef void *PVOID, *HANDLE;

typedef union _LARGE_INTEGER {
    struct { ULONG LowPart; LONG HighPart; } u;
    LONGLONG QuadPart;
} LARGE_INTEGER;

typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

typedef struct _UNICODE_STRING {
    USHORT Length;
    USHORT MaximumLength;
    WCHAR *Buffer;
} UNICODE_STRING;

typedef struct _CLIENT_ID {
    PVOID UniqueProcess;
    PVOID UniqueThread;
} CLIENT_ID;

struct _RTL_CRITICAL_SECTION;

/* 0x30 bytes */
typedef struct _RTL_CRITICAL_SECTION_DEBUG {
    USHORT Type;                                   /* 0x00 */
    USHORT CreatorBackTraceIndex;                  /* 0x02 */
    struct _RTL_CRITICAL_SECTION *CriticalSection; /* 0x08 */
    LIST_ENTRY ProcessLocksList;                   /* 0x10 */
    ULONG EntryCount;                              /* 0x20 */
    ULONG ContentionCount;                         /* 0x24 */
    ULONG Flags;                                   /* 0x28 */
    USHORT CreatorBackTraceIndexHigh;              /* 0x2c */
    USHORT SpareUSHORT;                            /* 0x2e */
} RTL_CRITICAL_SECTION_DEBUG, *PRTL_CRITICAL_SECTION_DEBUG;

/* 0x28 bytes */
typedef struct _RTL_CRITICAL_SECTION {
    PRTL_CRITICAL_SECTION_DEBUG DebugInfo; /* 0x00 */
    LONG LockCount;                        /* 0x08 */
    LONG RecursionCount;                   /* 0x0c */
    PVOID OwningThread;                    /* 0x10 */
    PVOID LockSemaphore;                   /* 0x18 */
    ULONG_PTR SpinCount;                   /* 0x20 */
} RTL_CRITICAL_SECTION, *PRTL_CRITICAL_SECTION;

typedef struct _RTL_SRWLOCK { PVOID Ptr; } RTL_SRWLOCK;
typedef struct _RTL_CONDITION_VARIABLE { PVOID Ptr; } RTL_CONDITION_VARIABLE;

struct _EXCEPTION_REGISTRATION_RECORD;

/* 0x38 bytes */
typedef struct _NT_TIB {
    struct _EXCEPTION_REGISTRATION_RECORD *ExceptionList; /* 0x00 */
    PVOID StackBase;                                      /* 0x08 */
    PVOID StackLimit;                                     /* 0x10 */
    PVOID SubSystemTib;                                   /* 0x18 */
    union {
        PVOID FiberData;                                  /* 0x20 */
        ULONG Version;
    };
    PVOID ArbitraryUserPointer;                           /* 0x28 */
    struct _NT_TIB *Self;                                 /* 0x30 */
} NT_TIB;

/* 0x58 bytes */
typedef struct _PEB_LDR_DATA {
    ULONG Length;                              /* 0x00 */
    BOOLEAN Initialized;                       /* 0x04 */
    PVOID SsHandle;                            /* 0x08 */
    LIST_ENTRY InLoadOrderModuleList;          /* 0x10 */
    LIST_ENTRY InMemoryOrderModuleList;        /* 0x20 */
    LIST_ENTRY InInitializationOrderModuleList;/* 0x30 */
    PVOID EntryInProgress;                     /* 0x40 */
    BOOLEAN ShutdownInProgress;                /* 0x48 */
    HANDLE ShutdownThreadId;                   /* 0x50 */
} PEB_LDR_DATA;

typedef struct _LDR_DATA_TABLE_ENTRY {
    LIST_ENTRY InLoadOrderLinks;           /* 0x00 */
    LIST_ENTRY InMemoryOrderLinks;         /* 0x10 */
    LIST_ENTRY InInitializationOrderLinks; /* 0x20 */
    PVOID DllBase;                         /* 0x30 */
    PVOID EntryPoint;                      /* 0x38 */
    ULONG SizeOfImage;                     /* 0x40 */
    UNICODE_STRING FullDllName;            /* 0x48 */
    UNICODE_STRING BaseDllName;            /* 0x58 */
    ULONG Flags;                           /* 0x68 */
    USHORT ObsoleteLoadCount;              /* 0x6c */
    USHORT TlsIndex;                       /* 0x6e */
    LIST_ENTRY HashLinks;                  /* 0x70 */
    ULONG TimeDateStamp;                   /* 0x80 */
} LDR_DATA_TABLE_ENTRY;

typedef struct _CURDIR { UNICODE_STRING DosPath; HANDLE Handle; } CURDIR;

typedef struct _RTL_USER_PROCESS_PARAMETERS {
    ULONG MaximumLength;             /* 0x00 */
    ULONG Length;                    /* 0x04 */
    ULONG Flags;                     /* 0x08 */
    ULONG DebugFlags;                /* 0x0c */
    HANDLE ConsoleHandle;            /* 0x10 */
    ULONG ConsoleFlags;              /* 0x18 */
    HANDLE StandardInput;            /* 0x20 */
    HANDLE StandardOutput;           /* 0x28 */
    HANDLE StandardError;            /* 0x30 */
    CURDIR CurrentDirectory;         /* 0x38 */
    UNICODE_STRING DllPath;          /* 0x50 */
    UNICODE_STRING ImagePathName;    /* 0x60 */
    UNICODE_STRING CommandLine;      /* 0x70 */
    PVOID Environment;               /* 0x80 */
    ULONG StartingX, StartingY;      /* 0x88 */
    ULONG CountX, CountY;            /* 0x90 */
    ULONG CountCharsX, CountCharsY;  /* 0x98 */
    ULONG FillAttribute;             /* 0xa0 */
    ULONG WindowFlags;               /* 0xa4 */
    ULONG ShowWindowFlags;           /* 0xa8 */
    UNICODE_STRING WindowTitle;      /* 0xb0 */
    UNICODE_STRING DesktopInfo;      /* 0xc0 */
    UNICODE_STRING ShellInfo;        /* 0xd0 */
    UNICODE_STRING RuntimeData;      /* 0xe0 */
} RTL_USER_PROCESS_PARAMETERS;

/* The head of _PEB (Windows 8.1 x64), up to the OS version fields. */
typedef struct _PEB {
    BOOLEAN InheritedAddressSpace;                  /* 0x000 */
    BOOLEAN ReadImageFileExecOptions;               /* 0x001 */
    BOOLEAN BeingDebugged;                          /* 0x002 */
    union {
        UCHAR BitField;                             /* 0x003 */
        struct {
            UCHAR ImageUsesLargePages : 1;
            UCHAR IsProtectedProcess : 1;
            UCHAR IsImageDynamicallyRelocated : 1;
            UCHAR SkipPatchingUser32Forwarders : 1;
            UCHAR IsPackagedProcess : 1;
            UCHAR IsAppContainer : 1;
            UCHAR IsProtectedProcessLight : 1;
            UCHAR SpareBits : 1;
        };
    };
    UCHAR Padding0[4];                              /* 0x004 */
    PVOID Mutant;                                   /* 0x008 */
    PVOID ImageBaseAddress;                         /* 0x010 */
    PEB_LDR_DATA *Ldr;                              /* 0x018 */
    RTL_USER_PROCESS_PARAMETERS *ProcessParameters; /* 0x020 */
    PVOID SubSystemData;                            /* 0x028 */
    PVOID ProcessHeap;                              /* 0x030 */
    RTL_CRITICAL_SECTION *FastPebLock;              /* 0x038 */
    PVOID AtlThunkSListPtr;                         /* 0x040 */
    PVOID IFEOKey;                                  /* 0x048 */
    ULONG CrossProcessFlags;                        /* 0x050 */
    UCHAR Padding1[4];                              /* 0x054 */
    PVOID KernelCallbackTable;                      /* 0x058 */
    ULONG SystemReserved[1];                        /* 0x060 */
    ULONG AtlThunkSListPtr32;                       /* 0x064 */
    PVOID ApiSetMap;                                /* 0x068 */
    ULONG TlsExpansionCounter;                      /* 0x070 */
    UCHAR Padding2[4];                              /* 0x074 */
    PVOID TlsBitmap;                                /* 0x078 */
    ULONG TlsBitmapBits[2];                         /* 0x080 */
    PVOID ReadOnlySharedMemoryBase;                 /* 0x088 */
    PVOID SparePvoid0;                              /* 0x090 */
    PVOID *ReadOnlyStaticServerData;                /* 0x098 */
    PVOID AnsiCodePageData;                         /* 0x0a0 */
    PVOID OemCodePageData;                          /* 0x0a8 */
    PVOID UnicodeCaseTableData;                     /* 0x0b0 */
    ULONG NumberOfProcessors;                       /* 0x0b8 */
    ULONG NtGlobalFlag;                             /* 0x0bc */
    LARGE_INTEGER CriticalSectionTimeout;           /* 0x0c0 */
    ULONG_PTR HeapSegmentReserve;                   /* 0x0c8 */
    ULONG_PTR HeapSegmentCommit;                    /* 0x0d0 */
    ULONG_PTR HeapDeCommitTotalFreeThreshold;       /* 0x0d8 */
    ULONG_PTR HeapDeCommitFreeBlockThreshold;       /* 0x0e0 */
    ULONG NumberOfHeaps;                            /* 0x0e8 */
    ULONG MaximumNumberOfHeaps;                     /* 0x0ec */
    PVOID *ProcessHeaps;                            /* 0x0f0 */
    PVOID GdiSharedHandleTable;                     /* 0x0f8 */
    PVOID ProcessStarterHelper;                     /* 0x100 */
    ULONG GdiDCAttributeList;                       /* 0x108 */
    UCHAR Padding3[4];                              /* 0x10c */
    RTL_CRITICAL_SECTION *LoaderLock;               /* 0x110 */
    ULONG OSMajorVersion;                           /* 0x118 */
    ULONG OSMinorVersion;                           /* 0x11c */
    USHORT OSBuildNumber;                           /* 0x120 */
    USHORT OSCSDVersion;                            /* 0x122 */
    ULONG OSPlatformId;                             /* 0x124 */
    ULONG ImageSubsystem;                           /* 0x128 */
    ULONG ImageSubsystemMajorVersion;               /* 0x12c */
    ULONG ImageSubsystemMinorVersion;               /* 0x130 */
} PEB;

/* _TEB (Windows 8.1 x64, 0x1818 bytes): the named fields are the ones a
 * debugger reads; the runs between them are kept as reserved bytes. */
typedef struct _TEB {
    NT_TIB NtTib;                            /* 0x0000 */
    PVOID EnvironmentPointer;                /* 0x0038 */
    CLIENT_ID ClientId;                      /* 0x0040 */
    PVOID ActiveRpcHandle;                   /* 0x0050 */
    PVOID ThreadLocalStoragePointer;         /* 0x0058 */
    PEB *ProcessEnvironmentBlock;            /* 0x0060 */
    ULONG LastErrorValue;                    /* 0x0068 */
    ULONG CountOfOwnedCriticalSections;      /* 0x006c */
    PVOID CsrClientThread;                   /* 0x0070 */
    PVOID Win32ThreadInfo;                   /* 0x0078 */
    ULONG User32Reserved[26];                /* 0x0080 */
    ULONG UserReserved[5];                   /* 0x00e8 */
    PVOID WOW32Reserved;                     /* 0x0100 */
    ULONG CurrentLocale;                     /* 0x0108 */
    ULONG FpSoftwareStatusRegister;          /* 0x010c */
    PVOID SystemReserved1[54];               /* 0x0110 */
    LONG ExceptionCode;                      /* 0x02c0 */
    UCHAR Padding0[4];                       /* 0x02c4 */
    PVOID ActivationContextStackPointer;     /* 0x02c8 */
    UCHAR SpareBytes[24];                    /* 0x02d0 */
    ULONG TxFsContext;                       /* 0x02e8 */
    UCHAR Padding1[4];                       /* 0x02ec */
    UCHAR GdiTebBatch[0x4e8];                /* 0x02f0 */
    CLIENT_ID RealClientId;                  /* 0x07d8 */
    PVOID GdiCachedProcessHandle;            /* 0x07e8 */
    ULONG GdiClientPID;                      /* 0x07f0 */
    ULONG GdiClientTID;                      /* 0x07f4 */
    PVOID GdiThreadLocalInfo;                /* 0x07f8 */
    ULONG_PTR Win32ClientInfo[62];           /* 0x0800 */
    PVOID glDispatchTable[233];              /* 0x09f0 */
    ULONG_PTR glReserved1[29];               /* 0x1138 */
    PVOID glReserved2;                       /* 0x1220 */
    PVOID glSectionInfo;                     /* 0x1228 */
    PVOID glSection;                         /* 0x1230 */
    PVOID glTable;                           /* 0x1238 */
    PVOID glCurrentRC;                       /* 0x1240 */
    PVOID glContext;                         /* 0x1248 */
    ULONG LastStatusValue;                   /* 0x1250 */
    UCHAR Padding2[4];                       /* 0x1254 */
    UNICODE_STRING StaticUnicodeString;      /* 0x1258 */
    WCHAR StaticUnicodeBuffer[261];          /* 0x1268 */
    UCHAR Padding3[6];                       /* 0x1472 */
    PVOID DeallocationStack;                 /* 0x1478 */
    PVOID TlsSlots[64];                      /* 0x1480 */
    LIST_ENTRY TlsLinks;                     /* 0x1680 */
    PVOID Vdm;                               /* 0x1690 */
    PVOID ReservedForNtRpc;                  /* 0x1698 */
    PVOID DbgSsReserved[2];                  /* 0x16a0 */
    ULONG HardErrorMode;                     /* 0x16b0 */
    UCHAR Padding4[4];                       /* 0x16b4 */
    PVOID Instrumentation[11];               /* 0x16b8 */
    UCHAR ActivityId[16];                    /* 0x1710 */
    PVOID SubProcessTag;                     /* 0x1720 */
    PVOID PerflibData;                       /* 0x1728 */
    PVOID EtwTraceData;                      /* 0x1730 */
    PVOID WinSockData;                       /* 0x1738 */
    ULONG GdiBatchCount;                     /* 0x1740 */
    ULONG IdealProcessorValue;               /* 0x1744 */
    ULONG GuaranteedStackBytes;              /* 0x1748 */
    UCHAR Padding5[4];                       /* 0x174c */
    PVOID ReservedForPerf;                   /* 0x1750 */
    PVOID ReservedForOle;                    /* 0x1758 */
    ULONG WaitingOnLoaderLock;               /* 0x1760 */
    UCHAR Padding6[4];                       /* 0x1764 */
    PVOID SavedPriorityState;                /* 0x1768 */
    ULONG_PTR ReservedForCodeCoverage;       /* 0x1770 */
    PVOID ThreadPoolData;                    /* 0x1778 */
    PVOID *TlsExpansionSlots;                /* 0x1780 */
    PVOID DeallocationBStore;                /* 0x1788 */
    PVOID BStoreLimit;                       /* 0x1790 */
    ULONG MuiGeneration;                     /* 0x1798 */
    ULONG IsImpersonating;                   /* 0x179c */
    PVOID NlsCache;                          /* 0x17a0 */
    PVOID pShimData;                         /* 0x17a8 */
    USHORT HeapVirtualAffinity;              /* 0x17b0 */
    USHORT LowFragHeapDataSlot;              /* 0x17b2 */
    UCHAR Padding7[4];                       /* 0x17b4 */
    HANDLE CurrentTransactionHandle;         /* 0x17b8 */
    PVOID ActiveFrame;                       /* 0x17c0 */
    PVOID FlsData;                           /* 0x17c8 */
    PVOID PreferredLanguages;                /* 0x17d0 */
    PVOID UserPrefLanguages;                 /* 0x17d8 */
    PVOID MergedPrefLanguages;               /* 0x17e0 */
    ULONG MuiImpersonation;                  /* 0x17e8 */
    USHORT CrossTebFlags;                    /* 0x17ec */
    union {
        USHORT SameTebFlags;                 /* 0x17ee */
        struct {
            USHORT SafeThunkCall : 1;
            USHORT InDebugPrint : 1;
            USHORT HasFiberData : 1;
            USHORT SkipThreadAttach : 1;
            USHORT WerInShipAssertCode : 1;
            USHORT RanProcessInit : 1;
            USHORT ClonedThread : 1;
            USHORT SuppressDebugMsg : 1;
            USHORT DisableUserStackWalk : 1;
            USHORT RtlExceptionAttached : 1;
            USHORT InitialThread : 1;
            USHORT SessionAware : 1;
            USHORT SpareSameTebBits : 4;
        };
    };
    PVOID TxnScopeEnterCallback;             /* 0x17f0 */
    PVOID TxnScopeExitCallback;              /* 0x17f8 */
    PVOID TxnScopeContext;                   /* 0x1800 */
    ULONG LockCount;                         /* 0x1808 */
    LONG WowTebOffset;                       /* 0x180c */
    PVOID ResourceRetValue;                  /* 0x1810 */
} TEB;

#define RTL_CRITICAL_SECTION_FLAG_NO_DEBUG_INFO 0x01000000
#define RTL_CRITICAL_SECTION_FLAG_DYNAMIC_SPIN 0x02000000

#ifdef __cplusplus
#define NT_STATIC_ASSERT static_assert
#else
#define NT_STATIC_ASSERT _Static_assert
#endif
NT_STATIC_ASSERT(sizeof(RTL_CRITICAL_SECTION) == 0x28, "cs");
NT_STATIC_ASSERT(sizeof(RTL_CRITICAL_SECTION_DEBUG) == 0x30, "csd");
NT_STATIC_ASSERT(sizeof(NT_TIB) == 0x38, "tib");
NT_STATIC_ASSERT(__builtin_offsetof(TEB, ProcessEnvironmentBlock) == 0x60, "teb peb");
NT_STATIC_ASSERT(__builtin_offsetof(TEB, LastStatusValue) == 0x1250, "teb status");
NT_STATIC_ASSERT(__builtin_offsetof(TEB, DeallocationStack) == 0x1478, "teb dealloc");
NT_STATIC_ASSERT(__builtin_offsetof(TEB, HardErrorMode) == 0x16b0, "teb hem");
NT_STATIC_ASSERT(__builtin_offsetof(TEB, SameTebFlags) == 0x17ee, "teb flags");
NT_STATIC_ASSERT(sizeof(TEB) == 0x1818, "teb size");
NT_STATIC_ASSERT(__builtin_offsetof(PEB, Ldr) == 0x18, "peb ldr");
NT_STATIC_ASSERT(__builtin_offsetof(PEB, ProcessHeap) == 0x30, "peb heap");
NT_STATIC_ASSERT(__builtin_offsetof(PEB, NtGlobalFlag) == 0xbc, "peb ngf");
NT_STATIC_ASSERT(__builtin_offsetof(PEB, ProcessHeaps) == 0xf0, "peb heaps");
NT_STATIC_ASSERT(__builtin_offsetof(PEB, LoaderLock) == 0x110, "peb ll");
NT_STATIC_ASSERT(__builtin_offsetof(PEB, OSBuildNumber) == 0x120, "peb build");
NT_STATIC_ASSERT(__builtin_offsetof(RTL_USER_PROCESS_PARAMETERS, ImagePathName) == 0x60, "upp");
NT_STATIC_ASSERT(__builtin_offsetof(RTL_USER_PROCESS_PARAMETERS, WindowTitle) == 0xb0, "upp wt");
NT_STATIC_ASSERT(__builtin_offsetof(LDR_DATA_TABLE_ENTRY, TimeDateStamp) == 0x80, "ldr");
#endif
