/* ntdbg scenario "hyperv-hang", kernel side: NDIS.SYS's internal structures,
 * as ndis.pdb carries them for the !ndiskd extension (which reads every
 * field by name).
 *
 * Names. Structure, field and enum names are the public ones of the real
 * Windows 8.1 x64 ndis.pdb (ntdiff's dump of its types), and so are the
 * offsets of every real field declared here: formats-spec.md 6.9 gives many
 * of them and each is held by a _Static_assert. The real structures are far
 * larger; the fields this miniature does not use are left out, their bytes
 * taken by Pad* arrays, so the real offsets hold. Anonymous unions of the
 * real layouts are kept where they matter (CodeView flattens their members
 * into the parent, as ndis.pdb has them).
 *
 * Ours, not Windows': what the real NDIS keeps in places no public symbol
 * describes (the device instance id, the MAC address, the datapath state, a
 * second flags word) is in a tail after the real 0x1500 bytes of
 * _NDIS_MINIPORT_BLOCK, marked below; and _NDIS_OID_REQUEST_RESERVED has two
 * fields after its real 0x60 bytes (who waits for a synchronous request).
 *
 * Bit and value names. A #define is not in a PDB, so every bit of Flags,
 * PnPFlags and MoreFlags, every driver flag, and the status codes, OIDs and
 * object types ndiskd names are ALSO enumerators of the enums below: a
 * debugger finds the name of bit N of _NDIS_MINIPORT_BLOCK.Flags as the
 * enumerator of enum _NDIS_MINIPORT_FLAGS whose value is 1 << N. Enumerators
 * of the flag and datapath enums are named <Prefix>_<NAME>, where NAME is
 * the text ndiskd prints (everything after the first underscore):
 * NdisMiniportFlag_RESET_IN_PROGRESS prints RESET_IN_PROGRESS. Status
 * codes, OIDs and object types are enumerators with their public names
 * (NDIS_STATUS_RESET_IN_PROGRESS, OID_RECEIVE_FILTER_SET_FILTER). The code
 * uses the fMINIPORT_* #defines, which have the same values. ndis.c's
 * ndisKdTypes global puts each enum into ndis.pdb.
 *
 * The dump writer (testdata/gen/hyperv/kernel_ndis.go) takes its offsets
 * from ndis.pdb (through ndis_layout.json, which its test checks against the
 * PDB), not from this file. */
#ifndef NTDBG_NDIS_TYPES_H
#define NTDBG_NDIS_TYPES_H

typedef int NDIS_STATUS, *PNDIS_STATUS;
typedef PVOID NDIS_HANDLE, *PNDIS_HANDLE;
typedef ULONG NDIS_OID, *PNDIS_OID;
typedef ULONG NDIS_PORT_NUMBER;
typedef ULONG NET_IFINDEX;
typedef ULONG_PTR KSPIN_LOCK;

#define NDIS_OFFSET(type, member, off) NT_OFFSET(type, member, off)
#define NDIS_SIZE(type, size) NT_SIZE(type, size)

struct _NDIS_MINIPORT_BLOCK;
struct _NDIS_M_DRIVER_BLOCK;
struct _NDIS_OID_REQUEST;
struct _NDIS_OPEN_BLOCK;
struct _NDIS_PROTOCOL_BLOCK;
struct _NDIS_WRAPPER_HANDLE;
struct _NDIS_MINIPORT_INTERRUPT;
struct _NDIS_IF_BLOCK;
struct _NDIS_REQUEST;
struct _NDIS_FILTER_BLOCK;
struct _NDIS_FILTER_DRIVER_BLOCK;
struct _NET_BUFFER_LIST;
struct _NET_BUFFER;

/* ---- Names as enums (see above) ---- */

/* NDIS_OBJECT_HEADER.Type. The public values (ndis/objectheader.h) and, for
 * NDIS's own blocks, values of this scenario (the real ones are not public). */
enum _NDIS_OBJECT_TYPE {
    NDIS_OBJECT_TYPE_DEFAULT = 0x80,
    NDIS_OBJECT_TYPE_MINIPORT_INIT_PARAMETERS = 0x81,
    NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS = 0x8A,
    NDIS_OBJECT_TYPE_OID_REQUEST = 0x96,
    NDIS_OBJECT_TYPE_MINIPORT_BLOCK = 0xC1,   /* scenario value */
    NDIS_OBJECT_TYPE_M_DRIVER_BLOCK = 0xC2,   /* scenario value */
    NDIS_OBJECT_TYPE_PROTOCOL_BLOCK = 0xC3,   /* scenario value */
    NDIS_OBJECT_TYPE_OPEN_BLOCK = 0xC4,       /* scenario value */
    NDIS_OBJECT_TYPE_FILTER_DRIVER_BLOCK = 0xC5, /* scenario value */
    NDIS_OBJECT_TYPE_FILTER_BLOCK = 0xC6,     /* scenario value */
    NDIS_OBJECT_TYPE_IF_BLOCK = 0xC7,         /* scenario value */
};

/* _NDIS_MINIPORT_BLOCK.Flags. */
#define fMINIPORT_BUS_MASTER                   0x00000001
#define fMINIPORT_NOT_BUS_MASTER               0x00000002
#define fMINIPORT_64BIT_DMA                    0x00000004
#define fMINIPORT_SG_DMA                       0x00000008
#define fMINIPORT_ALLOW_BUGCHECK_CALLBACK      0x00000010
#define fMINIPORT_BUGCHECK_CALLBACK_REGISTERED 0x00000020
#define fMINIPORT_DEFAULT_PORT_ACTIVATED       0x00000040
#define fMINIPORT_RESET_IN_PROGRESS            0x00000080
#define fMINIPORT_RESTORING_FILTERS            0x00000100
#define fMINIPORT_SUPPORTS_MEDIA_SENSE         0x00000200
#define fMINIPORT_DOES_NOT_DO_LOOPBACK         0x00000400
#define fMINIPORT_MEDIA_CONNECTED              0x00000800
#define fMINIPORT_DESERIALIZE                  0x00001000
#define fMINIPORT_INDICATES_PACKETS            0x00002000
#define fMINIPORT_HALTING                      0x00004000
#define fMINIPORT_PM_HALTING                   0x00008000
#define fMINIPORT_DEVICE_FAILED                0x00010000
enum _NDIS_MINIPORT_FLAGS {
    NdisMiniportFlag_BUS_MASTER = fMINIPORT_BUS_MASTER,
    NdisMiniportFlag_NOT_BUS_MASTER = fMINIPORT_NOT_BUS_MASTER,
    NdisMiniportFlag_64BIT_DMA = fMINIPORT_64BIT_DMA,
    NdisMiniportFlag_SG_DMA = fMINIPORT_SG_DMA,
    NdisMiniportFlag_ALLOW_BUGCHECK_CALLBACK = fMINIPORT_ALLOW_BUGCHECK_CALLBACK,
    NdisMiniportFlag_BUGCHECK_CALLBACK_REGISTERED = fMINIPORT_BUGCHECK_CALLBACK_REGISTERED,
    NdisMiniportFlag_DEFAULT_PORT_ACTIVATED = fMINIPORT_DEFAULT_PORT_ACTIVATED,
    NdisMiniportFlag_RESET_IN_PROGRESS = fMINIPORT_RESET_IN_PROGRESS,
    NdisMiniportFlag_RESTORING_FILTERS = fMINIPORT_RESTORING_FILTERS,
    NdisMiniportFlag_SUPPORTS_MEDIA_SENSE = fMINIPORT_SUPPORTS_MEDIA_SENSE,
    NdisMiniportFlag_DOES_NOT_DO_LOOPBACK = fMINIPORT_DOES_NOT_DO_LOOPBACK,
    NdisMiniportFlag_MEDIA_CONNECTED = fMINIPORT_MEDIA_CONNECTED,
    NdisMiniportFlag_DESERIALIZE = fMINIPORT_DESERIALIZE,
    NdisMiniportFlag_INDICATES_PACKETS = fMINIPORT_INDICATES_PACKETS,
    NdisMiniportFlag_HALTING = fMINIPORT_HALTING,
    NdisMiniportFlag_PM_HALTING = fMINIPORT_PM_HALTING,
    NdisMiniportFlag_DEVICE_FAILED = fMINIPORT_DEVICE_FAILED,
};

/* _NDIS_MINIPORT_BLOCK.PnPFlags. */
#define fMINIPORT_PM_SUPPORTED                 0x00000001
#define fMINIPORT_DEVICE_POWER_ENABLED         0x00000002
#define fMINIPORT_VIRTUAL_DEVICE               0x00000004
#define fMINIPORT_HIDDEN                       0x00000008
#define fMINIPORT_NO_HALT_ON_SUSPEND           0x00000010
#define fMINIPORT_RECEIVED_START               0x00000020
#define fMINIPORT_HARDWARE_DEVICE              0x00000040
#define fMINIPORT_SWENUM                       0x00000080
#define fMINIPORT_RECEIVED_SURPRISE_REMOVE     0x00000100
#define fMINIPORT_REMOVE_IN_PROGRESS           0x00000200
enum _NDIS_MINIPORT_PNP_FLAGS {
    NdisMiniportPnPFlag_PM_SUPPORTED = fMINIPORT_PM_SUPPORTED,
    NdisMiniportPnPFlag_DEVICE_POWER_ENABLED = fMINIPORT_DEVICE_POWER_ENABLED,
    NdisMiniportPnPFlag_VIRTUAL_DEVICE = fMINIPORT_VIRTUAL_DEVICE,
    NdisMiniportPnPFlag_HIDDEN = fMINIPORT_HIDDEN,
    NdisMiniportPnPFlag_NO_HALT_ON_SUSPEND = fMINIPORT_NO_HALT_ON_SUSPEND,
    NdisMiniportPnPFlag_RECEIVED_START = fMINIPORT_RECEIVED_START,
    NdisMiniportPnPFlag_HARDWARE_DEVICE = fMINIPORT_HARDWARE_DEVICE,
    NdisMiniportPnPFlag_SWENUM = fMINIPORT_SWENUM,
    NdisMiniportPnPFlag_RECEIVED_SURPRISE_REMOVE = fMINIPORT_RECEIVED_SURPRISE_REMOVE,
    NdisMiniportPnPFlag_REMOVE_IN_PROGRESS = fMINIPORT_REMOVE_IN_PROGRESS,
};

/* _NDIS_MINIPORT_BLOCK.MoreFlags (ours: see the tail of the block). */
#define fMINIPORT_PROCESSING_REQUEST           0x00000001
#define fMINIPORT_REQUEST_TIMEOUT              0x00000002
#define fMINIPORT_RESET_REQUESTED              0x00000004
#define fMINIPORT_PROCESSING_DEFERRED          0x00000008
enum _NDIS_MINIPORT_MORE_FLAGS {
    NdisMiniportMoreFlag_PROCESSING_REQUEST = fMINIPORT_PROCESSING_REQUEST,
    NdisMiniportMoreFlag_REQUEST_TIMEOUT = fMINIPORT_REQUEST_TIMEOUT,
    NdisMiniportMoreFlag_RESET_REQUESTED = fMINIPORT_RESET_REQUESTED,
    NdisMiniportMoreFlag_PROCESSING_DEFERRED = fMINIPORT_PROCESSING_DEFERRED,
};

/* _NDIS_M_DRIVER_BLOCK.Flags. */
#define fMINIBLOCK_INTERMEDIATE_DRIVER         0x0001
#define fMINIBLOCK_VERIFYING                   0x0002
#define fMINIBLOCK_UNLOADING                   0x0004
enum _NDIS_M_DRIVER_FLAGS {
    NdisMDriverFlag_INTERMEDIATE_DRIVER = fMINIBLOCK_INTERMEDIATE_DRIVER,
    NdisMDriverFlag_VERIFYING = fMINIBLOCK_VERIFYING,
    NdisMDriverFlag_UNLOADING = fMINIBLOCK_UNLOADING,
};

/* _NDIS_MINIPORT_BLOCK.DatapathState (ours): why the datapath is diverted
 * from the miniport, or Normal. */
typedef enum _NDIS_DATAPATH_STATE {
    NdisDatapath_Normal = 0,
    NdisDatapath_DIVERTED_BECAUSE_MINIPORT_PAUSED = 1,
    NdisDatapath_DIVERTED_BECAUSE_MINIPORT_RESETTING = 2,
    NdisDatapath_DIVERTED_BECAUSE_MINIPORT_LOW_POWER = 3,
    NdisDatapath_DIVERTED_BECAUSE_MEDIA_DISCONNECTED = 4,
    NdisDatapath_DIVERTED_BECAUSE_MINIPORT_HALTED = 5,
} NDIS_DATAPATH_STATE, *PNDIS_DATAPATH_STATE;

/* NDIS_STATUS values by name (ndis.h, ntddndis.h). The values above
 * 0x7fffffff are written as ints, so the enum stays int-sized. */
enum _NDIS_STATUS_CODE {
    NDIS_STATUS_SUCCESS = 0x00000000,
    NDIS_STATUS_PENDING = 0x00000103,
    NDIS_STATUS_MEDIA_CONNECT = 0x4001000B,
    NDIS_STATUS_MEDIA_DISCONNECT = 0x4001000C,
    NDIS_STATUS_RESET_START = 0x4001000E,
    NDIS_STATUS_RESET_END = 0x4001000F,
    NDIS_STATUS_FAILURE = (int)0xC0000001,
    NDIS_STATUS_RESOURCES = (int)0xC000009A,
    NDIS_STATUS_NOT_SUPPORTED = (int)0xC00000BB,
    NDIS_STATUS_CLOSING = (int)0xC0010002,
    NDIS_STATUS_RESET_IN_PROGRESS = (int)0xC001000D,
    NDIS_STATUS_NOT_RECOGNIZED = (int)0xC0010001,
    NDIS_STATUS_MEDIA_DISCONNECTED = (int)0xC001001F,
    NDIS_STATUS_REQUEST_ABORTED = (int)0xC001000C,
    NDIS_STATUS_PAUSED = (int)0xC023002A,
    NDIS_STATUS_LOW_POWER_STATE = (int)0xC023002F,
};

/* OIDs by name (ntddndis.h). OID_RECEIVE_FILTER_SET_FILTER is 0x00010227
 * there; 0x00010208 is OID_GEN_LINK_PARAMETERS. */
enum _NDIS_OID_CODE {
    OID_GEN_SUPPORTED_LIST = 0x00010101,
    OID_GEN_MAXIMUM_FRAME_SIZE = 0x00010106,
    OID_GEN_LINK_SPEED = 0x00010107,
    OID_GEN_CURRENT_PACKET_FILTER = 0x0001010E,
    OID_GEN_CURRENT_LOOKAHEAD = 0x0001010F,
    OID_GEN_MEDIA_CONNECT_STATUS = 0x00010114,
    OID_GEN_LINK_STATE = 0x00010207,
    OID_GEN_LINK_PARAMETERS = 0x00010208,
    OID_GEN_INTERRUPT_MODERATION = 0x00010209,
    OID_RECEIVE_FILTER_HARDWARE_CAPABILITIES = 0x00010221,
    OID_RECEIVE_FILTER_GLOBAL_PARAMETERS = 0x00010222,
    OID_RECEIVE_FILTER_ALLOCATE_QUEUE = 0x00010223,
    OID_RECEIVE_FILTER_FREE_QUEUE = 0x00010224,
    OID_RECEIVE_FILTER_ENUM_QUEUES = 0x00010225,
    OID_RECEIVE_FILTER_QUEUE_PARAMETERS = 0x00010226,
    OID_RECEIVE_FILTER_SET_FILTER = 0x00010227,
    OID_RECEIVE_FILTER_CLEAR_FILTER = 0x00010228,
    OID_RECEIVE_FILTER_ENUM_FILTERS = 0x00010229,
    OID_RECEIVE_FILTER_PARAMETERS = 0x0001022A,
    OID_RECEIVE_FILTER_QUEUE_ALLOCATION_COMPLETE = 0x0001022B,
    OID_RECEIVE_FILTER_CURRENT_CAPABILITIES = 0x0001022D,
    OID_GEN_STATISTICS = 0x00020106,
    OID_802_3_PERMANENT_ADDRESS = 0x01010101,
    OID_802_3_CURRENT_ADDRESS = 0x01010102,
    OID_802_3_MULTICAST_LIST = 0x01010103,
    OID_TCP_OFFLOAD_PARAMETERS = (int)0xFC01020C,
    OID_PNP_SET_POWER = (int)0xFD010101,
    OID_PNP_QUERY_POWER = (int)0xFD010102,
};

/* ---- Public and shared types ---- */

typedef struct _NDIS_OBJECT_HEADER {
    UCHAR Type;                                         /* 0x000 */
    UCHAR Revision;                                     /* 0x001 */
    USHORT Size;                                        /* 0x002 */
} NDIS_OBJECT_HEADER, *PNDIS_OBJECT_HEADER;
NDIS_SIZE(NDIS_OBJECT_HEADER, 0x4);

typedef enum _NDIS_MEDIUM {
    NdisMedium802_3 = 0,
    NdisMedium802_5 = 1,
    NdisMediumFddi = 2,
    NdisMediumWan = 3,
    NdisMediumLocalTalk = 4,
    NdisMediumDix = 5,
    NdisMediumArcnetRaw = 6,
    NdisMediumArcnet878_2 = 7,
    NdisMediumAtm = 8,
    NdisMediumWirelessWan = 9,
    NdisMediumIrda = 10,
    NdisMediumBpc = 11,
    NdisMediumCoWan = 12,
    NdisMedium1394 = 13,
    NdisMediumInfiniBand = 14,
    NdisMediumTunnel = 15,
    NdisMediumNative802_11 = 16,
    NdisMediumLoopback = 17,
    NdisMediumWiMAX = 18,
    NdisMediumIP = 19,
    NdisMediumMax = 20,
} NDIS_MEDIUM, *PNDIS_MEDIUM;

typedef enum _NDIS_PHYSICAL_MEDIUM {
    NdisPhysicalMediumUnspecified = 0,
    NdisPhysicalMediumWirelessLan = 1,
    NdisPhysicalMediumCableModem = 2,
    NdisPhysicalMediumPhoneLine = 3,
    NdisPhysicalMediumPowerLine = 4,
    NdisPhysicalMediumDSL = 5,
    NdisPhysicalMediumFibreChannel = 6,
    NdisPhysicalMedium1394 = 7,
    NdisPhysicalMediumWirelessWan = 8,
    NdisPhysicalMediumNative802_11 = 9,
    NdisPhysicalMediumBluetooth = 10,
    NdisPhysicalMediumInfiniband = 11,
    NdisPhysicalMediumWiMax = 12,
    NdisPhysicalMediumUWB = 13,
    NdisPhysicalMedium802_3 = 14,
    NdisPhysicalMedium802_5 = 15,
    NdisPhysicalMediumIrda = 16,
    NdisPhysicalMediumWiredWAN = 17,
    NdisPhysicalMediumWiredCoWan = 18,
    NdisPhysicalMediumOther = 19,
    NdisPhysicalMediumMax = 20,
} NDIS_PHYSICAL_MEDIUM, *PNDIS_PHYSICAL_MEDIUM;

typedef enum _NDIS_MINIPORT_STATE {
    NdisMiniportUndefinedState = 0,
    NdisMiniportHalted = 1,
    NdisMiniportInitializing = 2,
    NdisMiniportRestarting = 3,
    NdisMiniportRunning = 4,
    NdisMiniportPausing = 5,
    NdisMiniportPaused = 6,
} NDIS_MINIPORT_STATE, *PNDIS_MINIPORT_STATE;

typedef enum _NDIS_PNP_DEVICE_STATE {
    NdisPnPDeviceAdded = 0,
    NdisPnPDeviceStarted = 1,
    NdisPnPDeviceQueryStopped = 2,
    NdisPnPDeviceStopped = 3,
    NdisPnPDeviceQueryRemoved = 4,
    NdisPnPDeviceRemoved = 5,
    NdisPnPDeviceSurpriseRemoved = 6,
} NDIS_PNP_DEVICE_STATE, *PNDIS_PNP_DEVICE_STATE;

typedef enum _NET_IF_MEDIA_CONNECT_STATE {
    MediaConnectStateUnknown = 0,
    MediaConnectStateConnected = 1,
    MediaConnectStateDisconnected = 2,
} NET_IF_MEDIA_CONNECT_STATE, *PNET_IF_MEDIA_CONNECT_STATE;

typedef enum _NET_IF_MEDIA_DUPLEX_STATE {
    MediaDuplexStateUnknown = 0,
    MediaDuplexStateHalf = 1,
    MediaDuplexStateFull = 2,
} NET_IF_MEDIA_DUPLEX_STATE, *PNET_IF_MEDIA_DUPLEX_STATE;

typedef enum _NET_IF_ADMIN_STATUS {
    NET_IF_ADMIN_STATUS_UP = 1,
    NET_IF_ADMIN_STATUS_DOWN = 2,
    NET_IF_ADMIN_STATUS_TESTING = 3,
} NET_IF_ADMIN_STATUS, *PNET_IF_ADMIN_STATUS;

typedef enum _NET_IF_OPER_STATUS {
    NET_IF_OPER_STATUS_UP = 1,
    NET_IF_OPER_STATUS_DOWN = 2,
    NET_IF_OPER_STATUS_TESTING = 3,
    NET_IF_OPER_STATUS_UNKNOWN = 4,
    NET_IF_OPER_STATUS_DORMANT = 5,
    NET_IF_OPER_STATUS_NOT_PRESENT = 6,
    NET_IF_OPER_STATUS_LOWER_LAYER_DOWN = 7,
} NET_IF_OPER_STATUS, *PNET_IF_OPER_STATUS;

typedef union _NET_LUID_LH {
    ULONGLONG Value;                                    /* 0x000 */
    struct {
        ULONGLONG Reserved : 24;
        ULONGLONG NetLuidIndex : 24;
        ULONGLONG IfType : 16;
    } Info;                                             /* 0x000 */
} NET_LUID_LH, *PNET_LUID_LH, NET_LUID, *PNET_LUID;
NDIS_SIZE(NET_LUID_LH, 0x8);

/* NDIS's reference counts. */
typedef struct _REFERENCE {
    KSPIN_LOCK SpinLock;                                /* 0x000 */
    USHORT ReferenceCount;                              /* 0x008 */
    UCHAR Closing;                                      /* 0x00a */
} REFERENCE, *PREFERENCE;
NDIS_SIZE(REFERENCE, 0x10);

typedef struct _REFERENCE_EX {
    KSPIN_LOCK SpinLock;                                /* 0x000 */
    USHORT ReferenceCount;                              /* 0x008 */
    UCHAR Closing;                                      /* 0x00a */
    UCHAR ZeroBased;                                    /* 0x00b */
    PVOID RefCountTracker;                              /* 0x010 */
} REFERENCE_EX, *PREFERENCE_EX;
NDIS_SIZE(REFERENCE_EX, 0x18);

typedef struct _ULONG_REFERENCE {
    KSPIN_LOCK SpinLock;                                /* 0x000 */
    ULONG ReferenceCount;                               /* 0x008 */
    UCHAR Closing;                                      /* 0x00c */
} ULONG_REFERENCE, *PULONG_REFERENCE;
NDIS_SIZE(ULONG_REFERENCE, 0x10);

/* ---- OID requests ---- */

typedef enum _NDIS_REQUEST_TYPE {
    NdisRequestQueryInformation = 0,
    NdisRequestSetInformation = 1,
    NdisRequestQueryStatistics = 2,
    NdisRequestOpen = 3,
    NdisRequestClose = 4,
    NdisRequestSend = 5,
    NdisRequestTransferData = 6,
    NdisRequestReset = 7,
    NdisRequestGeneric1 = 8,
    NdisRequestGeneric2 = 9,
    NdisRequestGeneric3 = 10,
    NdisRequestGeneric4 = 11,
    NdisRequestMethod = 12,
} NDIS_REQUEST_TYPE, *PNDIS_REQUEST_TYPE;

/* NDIS_OID_REQUEST (ndis.h, NDIS 6.x; Windows 8.1's 0xf0 bytes). */
typedef struct _NDIS_OID_REQUEST {
    NDIS_OBJECT_HEADER Header;                          /* 0x000 */
    NDIS_REQUEST_TYPE RequestType;                      /* 0x004 */
    NDIS_PORT_NUMBER PortNumber;                        /* 0x008 */
    UINT Timeout;                                       /* 0x00c: seconds */
    PVOID RequestId;                                    /* 0x010 */
    NDIS_HANDLE RequestHandle;                          /* 0x018 */
    union _REQUEST_DATA {
        struct _QUERY {
            NDIS_OID Oid;
            PVOID InformationBuffer;
            UINT InformationBufferLength;
            UINT BytesWritten;
            UINT BytesNeeded;
        } QUERY_INFORMATION;
        struct _SET {
            NDIS_OID Oid;
            PVOID InformationBuffer;
            UINT InformationBufferLength;
            UINT BytesRead;
            UINT BytesNeeded;
        } SET_INFORMATION;
        struct _METHOD {
            NDIS_OID Oid;
            PVOID InformationBuffer;
            ULONG InputBufferLength;
            ULONG OutputBufferLength;
            ULONG MethodId;
            UINT BytesWritten;
            UINT BytesRead;
            UINT BytesNeeded;
        } METHOD_INFORMATION;
    } DATA;                                             /* 0x020 */
    UCHAR NdisReserved[16 * sizeof(PVOID)];             /* 0x048: an NDIS_OID_REQUEST_RESERVED */
    UCHAR MiniportReserved[2 * sizeof(PVOID)];          /* 0x0c8 */
    UCHAR SourceReserved[2 * sizeof(PVOID)];            /* 0x0d8 */
    UCHAR SupportedRevision;                            /* 0x0e8 */
    UCHAR Reserved1;                                    /* 0x0e9 */
    USHORT Reserved2;                                   /* 0x0ea */
} NDIS_OID_REQUEST, *PNDIS_OID_REQUEST;
NDIS_SIZE(NDIS_OID_REQUEST, 0xf0);
NDIS_OFFSET(NDIS_OID_REQUEST, RequestType, 0x4);
NDIS_OFFSET(NDIS_OID_REQUEST, PortNumber, 0x8);
NDIS_OFFSET(NDIS_OID_REQUEST, Timeout, 0xc);
NDIS_OFFSET(NDIS_OID_REQUEST, RequestId, 0x10);
NDIS_OFFSET(NDIS_OID_REQUEST, RequestHandle, 0x18);
NDIS_OFFSET(NDIS_OID_REQUEST, DATA, 0x20);
NDIS_OFFSET(NDIS_OID_REQUEST, DATA.METHOD_INFORMATION.Oid, 0x20);
NDIS_OFFSET(NDIS_OID_REQUEST, DATA.METHOD_INFORMATION.InformationBuffer, 0x28);
NDIS_OFFSET(NDIS_OID_REQUEST, DATA.METHOD_INFORMATION.InputBufferLength, 0x30);
NDIS_OFFSET(NDIS_OID_REQUEST, DATA.METHOD_INFORMATION.OutputBufferLength, 0x34);
NDIS_OFFSET(NDIS_OID_REQUEST, DATA.METHOD_INFORMATION.MethodId, 0x38);
NDIS_OFFSET(NDIS_OID_REQUEST, DATA.METHOD_INFORMATION.BytesNeeded, 0x44);
NDIS_OFFSET(NDIS_OID_REQUEST, NdisReserved, 0x48);
NDIS_OFFSET(NDIS_OID_REQUEST, MiniportReserved, 0xc8);
NDIS_OFFSET(NDIS_OID_REQUEST, SourceReserved, 0xd8);
NDIS_OFFSET(NDIS_OID_REQUEST, SupportedRevision, 0xe8);

typedef struct _NDIS_OID_REQUEST_FLAGS {
    ULONG Completed : 1;
    ULONG FreeRequest : 1;
    ULONG OidInTable : 1;
    ULONG SignalEvent : 1;
    ULONG CoNdis : 1;
    ULONG FromProtocol : 1;
    ULONG FromFilter : 1;
    ULONG Passthrough : 1;
    ULONG LastRestoreFilter : 1;
    ULONG OnlyDerefOpen : 1;
    ULONG SignalAndExit : 1;
    ULONG MpSaveBuf : 1;
    ULONG Reserved2 : 1;
    ULONG DownLevel : 1;
    ULONG Cloned : 1;
    ULONG Mandatory : 1;
    ULONG SentToMiniport : 1;
    ULONG SentToFilter : 1;
    ULONG ForReset : 1;
    ULONG ForRestore : 1;
    ULONG ForMpDirect : 1;
    ULONG DirectRequest : 1;
    ULONG RevisionChanged : 1;
    ULONG SkipPreProc : 1;
    ULONG SkipPostProc : 1;
    ULONG SkipSourceCompletion : 1;
    ULONG SourceCompletionOnly : 1;
    ULONG Remainder : 5;
} NDIS_OID_REQUEST_FLAGS, *PNDIS_OID_REQUEST_FLAGS;
NDIS_SIZE(NDIS_OID_REQUEST_FLAGS, 0x4);

/* NDIS's own part of every request it handles, in NDIS_OID_REQUEST's
 * NdisReserved (request + 0x48). Flags.Completed: the request has completed;
 * Flags.Cloned: a filter cloned it, and OidRequest is the request it was
 * cloned from. While queued behind a miniport's pending request it is on
 * _NDIS_MINIPORT_BLOCK.OidRequestList by Entry. */
typedef struct _NDIS_OID_REQUEST_RESERVED {
    union {
        LIST_ENTRY Entry;                               /* 0x000 */
        struct {
            struct _NDIS_OID_REQUEST *NextRequest;      /* 0x000 */
            NDIS_STATUS Status;                         /* 0x008 */
        };
    };
    NDIS_OID_REQUEST_FLAGS Flags;                       /* 0x010 */
    ULONG OidTableIndex;                                /* 0x014 */
    union {
        struct _NDIS_OID_REQUEST *OidRequest;           /* 0x018 */
        struct _NDIS_REQUEST *Request;                  /* 0x018 */
    };
    PVOID SourceHandle;                                 /* 0x020 */
    KEVENT Event;                                       /* 0x028 */
    PVOID NdisVcHandle;                                 /* 0x040 */
    ULONGLONG StartCycle;                               /* 0x048 */
    UCHAR Pad050[0x10];                                 /* 0x050 */
    /* ---- ours (the real structure ends at 0x60) ---- */
    PKEVENT RequestorEvent;                             /* 0x060: what the requesting thread waits on */
    PETHREAD RequestorThread;                           /* 0x068: the thread that waits for it */
} NDIS_OID_REQUEST_RESERVED, *PNDIS_OID_REQUEST_RESERVED;
NDIS_SIZE(NDIS_OID_REQUEST_RESERVED, 0x70);
NDIS_OFFSET(NDIS_OID_REQUEST_RESERVED, Status, 0x8);
NDIS_OFFSET(NDIS_OID_REQUEST_RESERVED, Flags, 0x10);
NDIS_OFFSET(NDIS_OID_REQUEST_RESERVED, OidRequest, 0x18);
NDIS_OFFSET(NDIS_OID_REQUEST_RESERVED, SourceHandle, 0x20);
NDIS_OFFSET(NDIS_OID_REQUEST_RESERVED, Event, 0x28);
NDIS_OFFSET(NDIS_OID_REQUEST_RESERVED, StartCycle, 0x48);
NDIS_OFFSET(NDIS_OID_REQUEST_RESERVED, RequestorEvent, 0x60);
_Static_assert(sizeof(NDIS_OID_REQUEST_RESERVED) <= sizeof(((NDIS_OID_REQUEST *)0)->NdisReserved),
               "NDIS_OID_REQUEST_RESERVED fits NdisReserved");

/* ---- Miniport drivers ---- */

typedef NDIS_STATUS SET_OPTIONS_HANDLER(NDIS_HANDLE NdisDriverHandle, NDIS_HANDLE DriverContext);
typedef NDIS_STATUS MINIPORT_INITIALIZE_HANDLER(NDIS_HANDLE NdisMiniportHandle, NDIS_HANDLE MiniportDriverContext,
                                                PVOID MiniportInitParameters);
typedef VOID MINIPORT_HALT_HANDLER(NDIS_HANDLE MiniportAdapterContext, ULONG HaltAction);
typedef VOID MINIPORT_DRIVER_UNLOAD(PDRIVER_OBJECT DriverObject);
typedef NDIS_STATUS MINIPORT_PAUSE_HANDLER(NDIS_HANDLE MiniportAdapterContext, PVOID PauseParameters);
typedef NDIS_STATUS MINIPORT_RESTART_HANDLER(NDIS_HANDLE MiniportAdapterContext, PVOID RestartParameters);
typedef NDIS_STATUS MINIPORT_OID_REQUEST_HANDLER(NDIS_HANDLE MiniportAdapterContext, PNDIS_OID_REQUEST OidRequest);
typedef VOID MINIPORT_SEND_NET_BUFFER_LISTS_HANDLER(NDIS_HANDLE MiniportAdapterContext, PVOID NetBufferList,
                                                    NDIS_PORT_NUMBER PortNumber, ULONG SendFlags);
typedef VOID MINIPORT_RETURN_NET_BUFFER_LISTS_HANDLER(NDIS_HANDLE MiniportAdapterContext, PVOID NetBufferLists,
                                                      ULONG ReturnFlags);
typedef VOID MINIPORT_CANCEL_SEND_HANDLER(NDIS_HANDLE MiniportAdapterContext, PVOID CancelId);
typedef BOOLEAN MINIPORT_CHECK_FOR_HANG_HANDLER(NDIS_HANDLE MiniportAdapterContext);
typedef NDIS_STATUS MINIPORT_RESET_HANDLER(NDIS_HANDLE MiniportAdapterContext, BOOLEAN *AddressingReset);
typedef VOID MINIPORT_DEVICE_PNP_EVENT_NOTIFY_HANDLER(NDIS_HANDLE MiniportAdapterContext, PVOID NetDevicePnPEvent);
typedef VOID MINIPORT_SHUTDOWN_HANDLER(NDIS_HANDLE MiniportAdapterContext, ULONG ShutdownAction);
typedef VOID MINIPORT_CANCEL_OID_REQUEST_HANDLER(NDIS_HANDLE MiniportAdapterContext, PVOID RequestId);
typedef NDIS_STATUS MINIPORT_DIRECT_OID_REQUEST_HANDLER(NDIS_HANDLE MiniportAdapterContext,
                                                        PNDIS_OID_REQUEST OidRequest);
typedef VOID MINIPORT_CANCEL_DIRECT_OID_REQUEST_HANDLER(NDIS_HANDLE MiniportAdapterContext, PVOID RequestId);

/* NDIS_MINIPORT_DRIVER_CHARACTERISTICS (ndis.h, NDIS 6.x), as the driver
 * registered it with NdisMRegisterMiniportDriver. */
typedef struct _NDIS_MINIPORT_DRIVER_CHARACTERISTICS {
    NDIS_OBJECT_HEADER Header;                          /* 0x000 */
    UCHAR MajorNdisVersion;                             /* 0x004 */
    UCHAR MinorNdisVersion;                             /* 0x005 */
    UCHAR MajorDriverVersion;                           /* 0x006 */
    UCHAR MinorDriverVersion;                           /* 0x007 */
    ULONG Flags;                                        /* 0x008 */
    SET_OPTIONS_HANDLER *SetOptionsHandler;             /* 0x010 */
    MINIPORT_INITIALIZE_HANDLER *InitializeHandlerEx;   /* 0x018 */
    MINIPORT_HALT_HANDLER *HaltHandlerEx;               /* 0x020 */
    MINIPORT_DRIVER_UNLOAD *UnloadHandler;              /* 0x028 */
    MINIPORT_PAUSE_HANDLER *PauseHandler;               /* 0x030 */
    MINIPORT_RESTART_HANDLER *RestartHandler;           /* 0x038 */
    MINIPORT_OID_REQUEST_HANDLER *OidRequestHandler;    /* 0x040 */
    MINIPORT_SEND_NET_BUFFER_LISTS_HANDLER *SendNetBufferListsHandler;     /* 0x048 */
    MINIPORT_RETURN_NET_BUFFER_LISTS_HANDLER *ReturnNetBufferListsHandler; /* 0x050 */
    MINIPORT_CANCEL_SEND_HANDLER *CancelSendHandler;    /* 0x058 */
    MINIPORT_CHECK_FOR_HANG_HANDLER *CheckForHangHandlerEx;                /* 0x060 */
    MINIPORT_RESET_HANDLER *ResetHandlerEx;             /* 0x068 */
    MINIPORT_DEVICE_PNP_EVENT_NOTIFY_HANDLER *DevicePnPEventNotifyHandler; /* 0x070 */
    MINIPORT_SHUTDOWN_HANDLER *ShutdownHandlerEx;       /* 0x078 */
    MINIPORT_CANCEL_OID_REQUEST_HANDLER *CancelOidRequestHandler;          /* 0x080 */
    MINIPORT_DIRECT_OID_REQUEST_HANDLER *DirectOidRequestHandler;          /* 0x088 */
    MINIPORT_CANCEL_DIRECT_OID_REQUEST_HANDLER *CancelDirectOidRequestHandler; /* 0x090 */
} NDIS_MINIPORT_DRIVER_CHARACTERISTICS, *PNDIS_MINIPORT_DRIVER_CHARACTERISTICS;
NDIS_SIZE(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, 0x98);
NDIS_OFFSET(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, MajorNdisVersion, 0x4);
NDIS_OFFSET(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, MajorDriverVersion, 0x6);
NDIS_OFFSET(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, Flags, 0x8);
NDIS_OFFSET(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, SetOptionsHandler, 0x10);
NDIS_OFFSET(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, InitializeHandlerEx, 0x18);
NDIS_OFFSET(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, OidRequestHandler, 0x40);
NDIS_OFFSET(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, ResetHandlerEx, 0x68);
NDIS_OFFSET(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, CancelDirectOidRequestHandler, 0x90);

/* _NDIS_M_DRIVER_BLOCK: one per registered miniport driver, on
 * ndisMiniDriverList by NextDriver; its miniports from MiniportQueue by
 * _NDIS_MINIPORT_BLOCK.NextMiniport. Windows 8.1 x64: 0x3e8 bytes. */
typedef struct _NDIS_M_DRIVER_BLOCK {
    NDIS_OBJECT_HEADER Header;                          /* 0x000 */
    struct _NDIS_M_DRIVER_BLOCK *NextDriver;            /* 0x008 */
    struct _NDIS_MINIPORT_BLOCK *MiniportQueue;         /* 0x010 */
    UCHAR MajorNdisVersion;                             /* 0x018 */
    UCHAR MinorNdisVersion;                             /* 0x019 */
    USHORT Flags;                                       /* 0x01a: enum _NDIS_M_DRIVER_FLAGS bits */
    struct _NDIS_WRAPPER_HANDLE *NdisDriverInfo;        /* 0x020 */
    PDRIVER_OBJECT DriverObject;                        /* 0x028 */
    UNICODE_STRING ServiceRegPath;                      /* 0x030 */
    PVOID MiniportDriverContext;                        /* 0x040 */
    struct _NDIS_PROTOCOL_BLOCK *AssociatedProtocol;    /* 0x048 */
    LIST_ENTRY DeviceList;                              /* 0x050 */
    PVOID PendingDeviceList;                            /* 0x060 */
    MINIPORT_DRIVER_UNLOAD *UnloadHandler;              /* 0x068 */
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS MiniportDriverCharacteristics; /* 0x070 */
    UCHAR Pad108[0x160 - 0x108];                        /* 0x108: the rest of the NDIS 5.1 characteristics */
    KEVENT MiniportsRemovedEvent;                       /* 0x160 */
    REFERENCE_EX Ref;                                   /* 0x178 */
    UCHAR Pad190[0x1c8 - 0x190];                        /* 0x190: IMStartRemoveMutex */
    PVOID IMStartRemoveMutexOwnerThread;                /* 0x1c8 */
    ULONG DriverVersion;                                /* 0x1d0 */
    UNICODE_STRING ServiceName;                         /* 0x1d8 */
    UCHAR Pad1e8[0x360 - 0x1e8];                        /* 0x1e8: CoNDIS, offload and PnP handlers */
    UNICODE_STRING ImageName;                           /* 0x360 */
    UCHAR Pad370[0x3e8 - 0x370];                        /* 0x370: switch handlers */
} NDIS_M_DRIVER_BLOCK, *PNDIS_M_DRIVER_BLOCK;
NDIS_SIZE(NDIS_M_DRIVER_BLOCK, 0x3e8);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, NextDriver, 0x8);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, MiniportQueue, 0x10);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, MajorNdisVersion, 0x18);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, MinorNdisVersion, 0x19);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, Flags, 0x1a);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, NdisDriverInfo, 0x20);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, DriverObject, 0x28);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, ServiceRegPath, 0x30);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, MiniportDriverContext, 0x40);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, AssociatedProtocol, 0x48);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, DeviceList, 0x50);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, MiniportDriverCharacteristics, 0x70);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, MiniportsRemovedEvent, 0x160);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, Ref, 0x178);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, DriverVersion, 0x1d0);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, ServiceName, 0x1d8);
NDIS_OFFSET(NDIS_M_DRIVER_BLOCK, ImageName, 0x360);

/* ---- Miniports ---- */

/* _NDIS_MINIPORT_BLOCK: one per network adapter, the device extension of
 * its DEVICE_OBJECT (which is 0x150 bytes before it); on ndisMiniportList
 * by NextGlobalMiniport and on its driver's MiniportQueue by NextMiniport.
 * The real fields keep their Windows 8.1 x64 offsets (the real block is
 * 0x1500 bytes); the tail after them is this scenario's. */
typedef struct _NDIS_MINIPORT_BLOCK {
    NDIS_OBJECT_HEADER Header;                          /* 0x000 */
    struct _NDIS_MINIPORT_BLOCK *NextMiniport;          /* 0x008 */
    struct _NDIS_MINIPORT_BLOCK *BaseMiniport;          /* 0x010 */
    NDIS_HANDLE MiniportAdapterContext;                 /* 0x018 */
    UCHAR MajorNdisVersion;                             /* 0x020: the NDIS API version of the miniport */
    UCHAR MinorNdisVersion;                             /* 0x021 */
    UCHAR Pad022[6];                                    /* 0x022 */
    PVOID PcwDataBlock;                                 /* 0x028 */
    PVOID Reserved28;                                   /* 0x030 */
    struct _NDIS_OPEN_BLOCK *OpenQueue;                 /* 0x038 */
    REFERENCE ShortRef;                                 /* 0x040 */
    PVOID Reserved29;                                   /* 0x050 */
    UCHAR LinkStateIndicationFlags;                     /* 0x058 */
    UCHAR LockAcquired;                                 /* 0x059 */
    UCHAR PmodeOpens;                                   /* 0x05a */
    UCHAR LoopbackOpens;                                /* 0x05b */
    KSPIN_LOCK Lock;                                    /* 0x060 */
    PVOID Reserved25;                                   /* 0x068 */
    struct _NDIS_MINIPORT_INTERRUPT *Interrupt;         /* 0x070 */
    ULONG Flags;                                        /* 0x078: enum _NDIS_MINIPORT_FLAGS bits */
    ULONG PnPFlags;                                     /* 0x07c: enum _NDIS_MINIPORT_PNP_FLAGS bits */
    UCHAR Pad080[0x158 - 0x080];                        /* 0x080 */
    NET_IF_MEDIA_CONNECT_STATE MiniportMediaConnectState; /* 0x158: as the miniport last indicated */
    NET_IF_MEDIA_DUPLEX_STATE MiniportMediaDuplexState; /* 0x15c */
    UCHAR Pad160[0x168 - 0x160];                        /* 0x160 */
    UNICODE_STRING SymbolicLinkName;                    /* 0x168 */
    ULONG CheckForHangSeconds;                          /* 0x178 */
    USHORT CFHangTicks;                                 /* 0x17c */
    USHORT CFHangCurrentTick;                           /* 0x17e */
    NDIS_STATUS ResetStatus;                            /* 0x180 */
    struct _NDIS_OPEN_BLOCK *ResetOpen;                 /* 0x188 */
    UCHAR Pad190[0x1d0 - 0x190];                        /* 0x190 */
    NDIS_MEDIUM MediaType;                              /* 0x1d0 */
    ULONG AutoNegotiationFlags;                         /* 0x1d4 */
    UCHAR Pad1d8[0x1e0 - 0x1d8];                        /* 0x1d8 */
    union {
        PDEVICE_OBJECT Reserved6;                       /* 0x1e0 */
        NET_IF_MEDIA_CONNECT_STATE MediaConnectState;   /* 0x1e0: the media state NDIS reports */
    };
    union {
        PDEVICE_OBJECT Reserved7;                       /* 0x1e8 */
        NET_IF_MEDIA_DUPLEX_STATE MediaDuplexState;     /* 0x1e8 */
    };
    UCHAR Pad1f0[0x5d8 - 0x1f0];                        /* 0x1f0 */
    NDIS_PNP_DEVICE_STATE PnPDeviceState;               /* 0x5d8 */
    NDIS_PNP_DEVICE_STATE OldPnPDeviceState;            /* 0x5dc */
    UCHAR Pad5e0[0x6e0 - 0x5e0];                        /* 0x5e0 */
    USHORT InternalResetCount;                          /* 0x6e0: resets NDIS started (automatic) */
    USHORT MiniportResetCount;                          /* 0x6e2: resets the miniport requested */
    USHORT MediaSenseConnectCount;                      /* 0x6e4 */
    USHORT MediaSenseDisconnectCount;                   /* 0x6e6 */
    PVOID xPackets;                                     /* 0x6e8 */
    ULONG UserModeOpenReferences;                       /* 0x6f0: handles opened from user mode */
    UCHAR Pad6f4[0x704 - 0x6f4];                        /* 0x6f4 */
    USHORT NumOpens;                                    /* 0x704 */
    USHORT CFHangXTicks;                                /* 0x706 */
    ULONG RequestCount;                                 /* 0x708 */
    ULONG IndicatedPacketsCount;                        /* 0x70c */
    NDIS_PHYSICAL_MEDIUM PhysicalMediumType;            /* 0x710 */
    NDIS_MEDIUM MiniportMediaType;                      /* 0x714 */
    UCHAR Pad718[0x880 - 0x718];                        /* 0x718 */
    LIST_ENTRY OidRequestList;                          /* 0x880: requests queued behind the pending one */
    struct _NDIS_OID_REQUEST *PendingOidRequest;        /* 0x890: the request the miniport has now */
    struct _NDIS_OID_REQUEST *ProcessedOidRequest;      /* 0x898 */
    PVOID NextCoOidRequestHandle;                       /* 0x8a0 */
    ULONG Ndis6ProtocolsBound;                          /* 0x8a8 */
    ULONG PmodeOpen6;                                   /* 0x8ac */
    NDIS_MINIPORT_STATE State;                          /* 0x8b0 */
    UCHAR Pad8b4[4];                                    /* 0x8b4 */
    PKEVENT AsyncOpCompletionEvent;                     /* 0x8b8 */
    NDIS_STATUS AsyncOpCompletionStatus;                /* 0x8c0 */
    UCHAR Pad8c4[0xec8 - 0x8c4];                        /* 0x8c4 */
    struct _NDIS_M_DRIVER_BLOCK *DriverHandle;          /* 0xec8 */
    PVOID BindPaths;                                    /* 0xed0 */
    NDIS_PHYSICAL_MEDIUM MiniportPhysicalMediumType;    /* 0xed8 */
    UCHAR Padedc[4];                                    /* 0xedc */
    PVOID SecurityDescriptor;                           /* 0xee0 */
    UNICODE_STRING BaseName;                            /* 0xee8: {InterfaceGuid} */
    UNICODE_STRING MiniportName;                        /* 0xef8: \DEVICE\{InterfaceGuid} */
    PDEVICE_OBJECT DeviceObject;                        /* 0xf08 */
    PDEVICE_OBJECT PhysicalDeviceObject;                /* 0xf10 */
    PDEVICE_OBJECT NextDeviceObject;                    /* 0xf18 */
    struct _NDIS_MINIPORT_BLOCK *NextGlobalMiniport;    /* 0xf20 */
    PUNICODE_STRING pAdapterInstanceName;               /* 0xf28: the adapter's name ("FooBar Network Adapter #2") */
    ULONG PnPCapabilities;                              /* 0xf30 */
    DEVICE_POWER_STATE CurrentDevicePowerState;         /* 0xf34 */
    KSPIN_LOCK PowerStateLock;                          /* 0xf38 */
    DEVICE_POWER_STATE DriverPowerState;                /* 0xf40 */
    DEVICE_POWER_STATE PrevDriverPowerState;            /* 0xf44 */
    UCHAR Padf48[0xfb0 - 0xf48];                        /* 0xf48 */
    USHORT InstanceNumber;                              /* 0xfb0 */
    UCHAR Padfb2[6];                                    /* 0xfb2 */
    PVOID ConfigurationHandle;                          /* 0xfb8 */
    GUID InterfaceGuid;                                 /* 0xfc0 */
    NET_LUID NetLuid;                                   /* 0xfd0 */
    BOOLEAN IfBlockAvailable;                           /* 0xfd8 */
    UCHAR Padfd9[7];                                    /* 0xfd9 */
    struct _NDIS_IF_BLOCK *IfBlock;                     /* 0xfe0: the network interface */
    PKEVENT IfBlockPointerRefZeroEvent;                 /* 0xfe8 */
    NET_IFINDEX IfIndex;                                /* 0xff0 */
    NET_IF_ADMIN_STATUS AdminStatus;                    /* 0xff4 */
    NET_IF_OPER_STATUS OperStatus;                      /* 0xff8: the interface state */
    ULONG OperStatusFlags;                              /* 0xffc */
    UCHAR Pad1000[0x1180 - 0x1000];                     /* 0x1000 */
    ULONG_REFERENCE Ref;                                /* 0x1180: the miniport's references */
    UCHAR Pad1190[0x1500 - 0x1190];                     /* 0x1190 */
    /* ---- ours: the real block ends at 0x1500 ---- */
    ULONG MoreFlags;                                    /* 0x1500: enum _NDIS_MINIPORT_MORE_FLAGS bits */
    NDIS_DATAPATH_STATE DatapathState;                  /* 0x1504 */
    NDIS_STATUS DatapathNblStatus;                      /* 0x1508: the status diverted NBLs complete with */
    USHORT MacAddressLength;                            /* 0x150c */
    UCHAR PermanentAddress[32];                         /* 0x150e */
    UCHAR CurrentAddress[32];                           /* 0x152e */
    UCHAR Pad154e[2];                                   /* 0x154e */
    UNICODE_STRING DeviceInstanceId;                    /* 0x1550: the PnP device instance path */
    struct _NDIS_FILTER_BLOCK *FilterChain;             /* 0x1560: the lowest filter module, or 0 */
    struct _NET_BUFFER_LIST *PendingNbls;               /* 0x1568: NBLs pending on the miniport (by Next), or 0 */
} NDIS_MINIPORT_BLOCK, *PNDIS_MINIPORT_BLOCK;
NDIS_SIZE(NDIS_MINIPORT_BLOCK, 0x1570);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, NextMiniport, 0x8);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, BaseMiniport, 0x10);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, MiniportAdapterContext, 0x18);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, MajorNdisVersion, 0x20);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, OpenQueue, 0x38);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, ShortRef, 0x40);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, Lock, 0x60);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, Interrupt, 0x70);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, Flags, 0x78);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, PnPFlags, 0x7c);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, MiniportMediaConnectState, 0x158);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, SymbolicLinkName, 0x168);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, ResetStatus, 0x180);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, MediaType, 0x1d0);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, MediaConnectState, 0x1e0);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, MediaDuplexState, 0x1e8);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, PnPDeviceState, 0x5d8);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, InternalResetCount, 0x6e0);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, MiniportResetCount, 0x6e2);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, UserModeOpenReferences, 0x6f0);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, NumOpens, 0x704);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, PhysicalMediumType, 0x710);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, OidRequestList, 0x880);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, PendingOidRequest, 0x890);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, State, 0x8b0);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, AsyncOpCompletionStatus, 0x8c0);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, DriverHandle, 0xec8);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, MiniportPhysicalMediumType, 0xed8);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, BaseName, 0xee8);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, MiniportName, 0xef8);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, DeviceObject, 0xf08);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, PhysicalDeviceObject, 0xf10);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, NextDeviceObject, 0xf18);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, NextGlobalMiniport, 0xf20);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, pAdapterInstanceName, 0xf28);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, CurrentDevicePowerState, 0xf34);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, InstanceNumber, 0xfb0);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, InterfaceGuid, 0xfc0);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, NetLuid, 0xfd0);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, IfBlock, 0xfe0);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, IfIndex, 0xff0);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, AdminStatus, 0xff4);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, OperStatus, 0xff8);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, Ref, 0x1180);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, MoreFlags, 0x1500);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, DatapathState, 0x1504);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, DatapathNblStatus, 0x1508);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, MacAddressLength, 0x150c);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, PermanentAddress, 0x150e);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, CurrentAddress, 0x152e);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, DeviceInstanceId, 0x1550);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, FilterChain, 0x1560);
NDIS_OFFSET(NDIS_MINIPORT_BLOCK, PendingNbls, 0x1568);

/* ---- NET_BUFFER_LIST and NET_BUFFER (ndis.h, NDIS 6.x x64) ---- */

typedef struct _NET_BUFFER {
    struct _NET_BUFFER *Next;                           /* 0x000 */
    PMDL CurrentMdl;                                    /* 0x008 */
    ULONG CurrentMdlOffset;                             /* 0x010 */
    union {
        ULONG DataLength;                               /* 0x018 */
        SIZE_T stDataLength;                            /* 0x018 */
    };
    PMDL MdlChain;                                      /* 0x020 */
    ULONG DataOffset;                                   /* 0x028 */
    USHORT ChecksumBias;                                /* 0x02c */
    USHORT Reserved;                                    /* 0x02e */
    NDIS_HANDLE NdisPoolHandle;                         /* 0x030 */
    PVOID NdisReserved[2];                              /* 0x038 */
    PVOID ProtocolReserved[6];                          /* 0x048 */
    PVOID MiniportReserved[4];                          /* 0x078 */
    ULONGLONG DataPhysicalAddress;                      /* 0x098 */
    PVOID SharedMemoryInfo;                             /* 0x0a0 */
} NET_BUFFER, *PNET_BUFFER;
NDIS_SIZE(NET_BUFFER, 0xa8);
NDIS_OFFSET(NET_BUFFER, DataLength, 0x18);
NDIS_OFFSET(NET_BUFFER, DataOffset, 0x28);

#define MaxNetBufferListInfo 20
typedef struct _NET_BUFFER_LIST {
    struct _NET_BUFFER_LIST *Next;                      /* 0x000 */
    struct _NET_BUFFER *FirstNetBuffer;                 /* 0x008 */
    PVOID Context;                                      /* 0x010: a NET_BUFFER_LIST_CONTEXT */
    struct _NET_BUFFER_LIST *ParentNetBufferList;       /* 0x018 */
    NDIS_HANDLE NdisPoolHandle;                         /* 0x020 */
    PVOID NdisReserved[2];                              /* 0x028 */
    PVOID ProtocolReserved[4];                          /* 0x038 */
    PVOID MiniportReserved[2];                          /* 0x058 */
    PVOID Scratch;                                      /* 0x068 */
    NDIS_HANDLE SourceHandle;                           /* 0x070: the open that sent it */
    ULONG NblFlags;                                     /* 0x078 */
    LONG ChildRefCount;                                 /* 0x07c */
    ULONG Flags;                                        /* 0x080 */
    NDIS_STATUS Status;                                 /* 0x084 */
    PVOID NetBufferListInfo[MaxNetBufferListInfo];      /* 0x088 */
} NET_BUFFER_LIST, *PNET_BUFFER_LIST;
NDIS_SIZE(NET_BUFFER_LIST, 0x128);
NDIS_OFFSET(NET_BUFFER_LIST, SourceHandle, 0x70);
NDIS_OFFSET(NET_BUFFER_LIST, Status, 0x84);
NDIS_OFFSET(NET_BUFFER_LIST, NetBufferListInfo, 0x88);

/* ---- Protocols and their bindings (opens) ----
 * These blocks are this scenario's: real field names, offsets ours. */

typedef NDIS_STATUS PROTOCOL_BIND_ADAPTER_EX(NDIS_HANDLE ProtocolDriverContext, NDIS_HANDLE BindContext,
                                              PVOID BindParameters);
typedef NDIS_STATUS PROTOCOL_UNBIND_ADAPTER_EX(NDIS_HANDLE UnbindContext, NDIS_HANDLE ProtocolBindingContext);
typedef VOID PROTOCOL_OPEN_ADAPTER_COMPLETE_EX(NDIS_HANDLE ProtocolBindingContext, NDIS_STATUS Status);
typedef VOID PROTOCOL_CLOSE_ADAPTER_COMPLETE_EX(NDIS_HANDLE ProtocolBindingContext);
typedef NDIS_STATUS PROTOCOL_NET_PNP_EVENT(NDIS_HANDLE ProtocolBindingContext, PVOID NetPnPEventNotification);
typedef VOID PROTOCOL_UNINSTALL(VOID);
typedef VOID PROTOCOL_SEND_NET_BUFFER_LISTS_COMPLETE(NDIS_HANDLE ProtocolBindingContext,
                                                     struct _NET_BUFFER_LIST *NetBufferList, ULONG SendCompleteFlags);
typedef VOID PROTOCOL_RECEIVE_NET_BUFFER_LISTS(NDIS_HANDLE ProtocolBindingContext,
                                               struct _NET_BUFFER_LIST *NetBufferLists, NDIS_PORT_NUMBER PortNumber,
                                               ULONG NumberOfNetBufferLists, ULONG ReceiveFlags);
typedef VOID PROTOCOL_STATUS_EX(NDIS_HANDLE ProtocolBindingContext, PVOID StatusIndication);
typedef VOID PROTOCOL_OID_REQUEST_COMPLETE(NDIS_HANDLE ProtocolBindingContext, PNDIS_OID_REQUEST OidRequest,
                                           NDIS_STATUS Status);
typedef VOID PROTOCOL_DIRECT_OID_REQUEST_COMPLETE(NDIS_HANDLE ProtocolBindingContext, PNDIS_OID_REQUEST OidRequest,
                                                  NDIS_STATUS Status);

/* _NDIS_PROTOCOL_BLOCK: one per registered protocol driver, on
 * ndisProtocolList by NextProtocol; its bindings from OpenQueue by
 * _NDIS_OPEN_BLOCK.ProtocolNextOpen. */
typedef struct _NDIS_PROTOCOL_BLOCK {
    NDIS_OBJECT_HEADER Header;                          /* 0x000 */
    struct _NDIS_PROTOCOL_BLOCK *NextProtocol;          /* 0x008 */
    struct _NDIS_OPEN_BLOCK *OpenQueue;                 /* 0x010 */
    UCHAR MajorNdisVersion;                             /* 0x018 */
    UCHAR MinorNdisVersion;                             /* 0x019 */
    UCHAR MajorDriverVersion;                           /* 0x01a */
    UCHAR MinorDriverVersion;                           /* 0x01b */
    UNICODE_STRING Name;                                /* 0x020 */
    PVOID ProtocolDriverContext;                        /* 0x030 */
    ULONG_REFERENCE Ref;                                /* 0x038 */
    ULONG Flags;                                        /* 0x048 */
    PROTOCOL_BIND_ADAPTER_EX *BindAdapterHandlerEx;     /* 0x050 */
    PROTOCOL_UNBIND_ADAPTER_EX *UnbindAdapterHandlerEx; /* 0x058 */
    PROTOCOL_OPEN_ADAPTER_COMPLETE_EX *OpenAdapterCompleteHandlerEx;   /* 0x060 */
    PROTOCOL_CLOSE_ADAPTER_COMPLETE_EX *CloseAdapterCompleteHandlerEx; /* 0x068 */
    PROTOCOL_NET_PNP_EVENT *NetPnPEventHandler;         /* 0x070 */
    PROTOCOL_UNINSTALL *UninstallHandler;               /* 0x078 */
    PROTOCOL_SEND_NET_BUFFER_LISTS_COMPLETE *SendNetBufferListsCompleteHandler; /* 0x080 */
    PROTOCOL_RECEIVE_NET_BUFFER_LISTS *ReceiveNetBufferListsHandler;          /* 0x088 */
    PROTOCOL_STATUS_EX *StatusHandlerEx;                /* 0x090 */
    PROTOCOL_OID_REQUEST_COMPLETE *OidRequestCompleteHandler;                 /* 0x098 */
    PROTOCOL_DIRECT_OID_REQUEST_COMPLETE *DirectOidRequestCompleteHandler;    /* 0x0a0 */
} NDIS_PROTOCOL_BLOCK, *PNDIS_PROTOCOL_BLOCK;
NDIS_SIZE(NDIS_PROTOCOL_BLOCK, 0xa8);

/* _NDIS_OPEN_BLOCK: one binding of a protocol to a miniport, on the
 * miniport's OpenQueue by MiniportNextOpen and on the protocol's OpenQueue
 * by ProtocolNextOpen. */
typedef struct _NDIS_OPEN_BLOCK {
    NDIS_OBJECT_HEADER Header;                          /* 0x000 */
    struct _NDIS_MINIPORT_BLOCK *MiniportHandle;        /* 0x008 */
    struct _NDIS_PROTOCOL_BLOCK *ProtocolHandle;        /* 0x010 */
    NDIS_HANDLE ProtocolBindingContext;                 /* 0x018 */
    NDIS_HANDLE MiniportAdapterContext;                 /* 0x020 */
    struct _NDIS_OPEN_BLOCK *MiniportNextOpen;          /* 0x028 */
    struct _NDIS_OPEN_BLOCK *ProtocolNextOpen;          /* 0x030 */
    ULONG Flags;                                        /* 0x038 */
    ULONG References;                                   /* 0x03c */
    ULONG PacketFilter;                                 /* 0x040 */
    USHORT FrameType;                                   /* 0x044: the EtherType it binds (0x0800, 0x86dd) */
} NDIS_OPEN_BLOCK, *PNDIS_OPEN_BLOCK;
NDIS_SIZE(NDIS_OPEN_BLOCK, 0x48);

/* ---- Filter drivers and filter modules ---- */

typedef enum _NDIS_FILTER_STATE {
    NdisFilterStateUnspecified = 0,
    NdisFilterAttaching = 1,
    NdisFilterPaused = 2,
    NdisFilterRestarting = 3,
    NdisFilterRunning = 4,
    NdisFilterPausing = 5,
    NdisFilterDetaching = 6,
} NDIS_FILTER_STATE, *PNDIS_FILTER_STATE;

/* _NDIS_FILTER_DRIVER_BLOCK: one per registered filter driver, on
 * ndisFilterDriverList by NextFilterDriver; its modules from
 * FilterModuleQueue by _NDIS_FILTER_BLOCK.NextFilterModule. */
typedef struct _NDIS_FILTER_DRIVER_BLOCK {
    NDIS_OBJECT_HEADER Header;                          /* 0x000 */
    struct _NDIS_FILTER_DRIVER_BLOCK *NextFilterDriver; /* 0x008 */
    struct _NDIS_FILTER_BLOCK *FilterModuleQueue;       /* 0x010 */
    UNICODE_STRING FriendlyName;                        /* 0x018 */
    UNICODE_STRING UniqueName;                          /* 0x028: {GUID} */
    UNICODE_STRING ServiceName;                         /* 0x038 */
    UCHAR MajorNdisVersion;                             /* 0x048 */
    UCHAR MinorNdisVersion;                             /* 0x049 */
    PVOID FilterDriverContext;                          /* 0x050 */
    PDRIVER_OBJECT DriverObject;                        /* 0x058 */
    ULONG_REFERENCE Ref;                                /* 0x060 */
} NDIS_FILTER_DRIVER_BLOCK, *PNDIS_FILTER_DRIVER_BLOCK;
NDIS_SIZE(NDIS_FILTER_DRIVER_BLOCK, 0x70);

/* _NDIS_FILTER_BLOCK: one filter module (a filter driver's instance on one
 * miniport), stacked on the miniport from FilterChain (the lowest) up by
 * HigherFilter. */
typedef struct _NDIS_FILTER_BLOCK {
    NDIS_OBJECT_HEADER Header;                          /* 0x000 */
    struct _NDIS_FILTER_BLOCK *NextFilterModule;        /* 0x008: in its driver's FilterModuleQueue */
    struct _NDIS_FILTER_BLOCK *NextGlobalFilter;        /* 0x010 */
    struct _NDIS_MINIPORT_BLOCK *Miniport;              /* 0x018 */
    struct _NDIS_FILTER_DRIVER_BLOCK *FilterDriver;     /* 0x020 */
    NDIS_HANDLE FilterModuleContext;                    /* 0x028 */
    UNICODE_STRING FilterInstanceName;                  /* 0x030 */
    NDIS_FILTER_STATE State;                            /* 0x040 */
    struct _NDIS_FILTER_BLOCK *LowerFilter;             /* 0x048 */
    struct _NDIS_FILTER_BLOCK *HigherFilter;            /* 0x050 */
    ULONG_REFERENCE Ref;                                /* 0x058 */
} NDIS_FILTER_BLOCK, *PNDIS_FILTER_BLOCK;
NDIS_SIZE(NDIS_FILTER_BLOCK, 0x68);

/* ---- Network interfaces ---- */

/* _NDIS_IF_BLOCK: one network interface, on ndisIfList by NextIf; a
 * miniport's is its IfBlock. */
typedef struct _NDIS_IF_BLOCK {
    NDIS_OBJECT_HEADER Header;                          /* 0x000 */
    struct _NDIS_IF_BLOCK *NextIf;                      /* 0x008 */
    NET_IFINDEX ifIndex;                                /* 0x010 */
    USHORT ifType;                                      /* 0x014: IF_TYPE_* (6 ethernet) */
    UNICODE_STRING ifAlias;                             /* 0x018: "Ethernet 2" */
    UNICODE_STRING ifDescr;                             /* 0x028: the adapter's name */
    NET_IF_OPER_STATUS ifOperStatus;                    /* 0x038 */
    NET_IF_ADMIN_STATUS ifAdminStatus;                  /* 0x03c */
    ULONGLONG NetLuid;                                  /* 0x040 */
    struct _NDIS_MINIPORT_BLOCK *MiniportBlock;         /* 0x048 */
} NDIS_IF_BLOCK, *PNDIS_IF_BLOCK;
NDIS_SIZE(NDIS_IF_BLOCK, 0x50);

/* The anchor that puts into ndis.pdb the types no code or global of the
 * miniature uses: the enums of names and NDIS's part of a request (ndis.c
 * defines ndisKdTypes; the code never reads it). */
typedef struct _NDIS_KD_TYPES {
    PNDIS_OID_REQUEST_RESERVED OidRequestReserved;
    enum _NDIS_OBJECT_TYPE ObjectType;
    enum _NDIS_MINIPORT_FLAGS MiniportFlags;
    enum _NDIS_MINIPORT_PNP_FLAGS MiniportPnPFlags;
    enum _NDIS_MINIPORT_MORE_FLAGS MiniportMoreFlags;
    enum _NDIS_M_DRIVER_FLAGS DriverFlags;
    enum _NDIS_STATUS_CODE Status;
    enum _NDIS_OID_CODE Oid;
    NDIS_DATAPATH_STATE DatapathState;
} NDIS_KD_TYPES;

#endif /* NTDBG_NDIS_TYPES_H */
