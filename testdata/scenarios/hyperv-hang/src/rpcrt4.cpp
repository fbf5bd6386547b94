// ntdbg scenario "hyperv-hang": the RPC server dispatch path of rpcrt4.dll,
// from the thread pool's ALPC callback down to the server routine:
//   ntdll!TppAlpcpExecuteCallback -> LrpcIoComplete -> LRPC_ADDRESS::ProcessIO
//   -> LRPC_SCALL::HandleRequest -> LRPC_SCALL::DispatchRequest
//   -> RPC_INTERFACE::DispatchToStubWorker -> DispatchToStubInCNoAvrf
//   -> NdrServerCallAll -> NdrStubCall3 -> Ndr64StubWorker -> Invoke -> routine
typedef long RPC_STATUS;
typedef unsigned long ULONG;

#define NOINLINE __attribute__((noinline))
#define EXPORT __declspec(dllexport)

struct _RPC_MESSAGE {
    void *Handle;
    ULONG DataRepresentation;
    void *Buffer;
    unsigned int BufferLength;
    unsigned int ProcNum;
    void *TransferSyntax;
    void *RpcInterfaceInformation;
    void *ReservedForRuntime;
    void *ManagerEpv;
    void *ImportContext;
    ULONG RpcFlags;
};
typedef long (*SERVER_ROUTINE)(void *Binding, void *Argument);
typedef void (*RPC_DISPATCH_FUNCTION)(_RPC_MESSAGE *Message);
struct _MIDL_SERVER_INFO {
    void *pStubDesc;
    const SERVER_ROUTINE *DispatchTable;
    const unsigned char *ProcString;
    const unsigned short *FmtStringOffset;
};
struct _RPC_SERVER_INTERFACE {
    unsigned int Length;
    RPC_DISPATCH_FUNCTION *DispatchTable;
    _MIDL_SERVER_INFO *InterpreterInfo;
};
struct _PORT_MESSAGE {
    unsigned short DataLength, TotalLength;
    unsigned short Type, DataInfoOffset;
    void *UniqueProcess, *UniqueThread;
    ULONG MessageId;
    unsigned long long ClientViewSize;
};
struct _TP_CALLBACK_INSTANCE;
struct _TP_ALPC;

extern "C" {
EXPORT NOINLINE long Invoke(SERVER_ROUTINE pFunction, void **pArgumentList, void *pFloatingPointArgs, ULONG cArguments);
EXPORT NOINLINE long Ndr64StubWorker(void *pThis, void *pChannel, _RPC_MESSAGE *pRpcMsg, _MIDL_SERVER_INFO *pServerInfo,
                                     const SERVER_ROUTINE *DispatchTable, void *pSyntaxInfo, ULONG *pdwStubPhase);
EXPORT NOINLINE long NdrStubCall3(void *pThis, void *pChannel, _RPC_MESSAGE *pRpcMsg, ULONG *pdwStubPhase);
EXPORT NOINLINE void NdrServerCallAll(_RPC_MESSAGE *pRpcMsg);
EXPORT NOINLINE void LrpcIoComplete(_TP_CALLBACK_INSTANCE *Instance, void *Context, _TP_ALPC *Alpc, void *Message);
}

class RPC_INTERFACE {
public:
    _RPC_SERVER_INTERFACE RpcInterfaceInformation;
    ULONG Flags;
    long NullManagerActiveCallCount;
    NOINLINE long DispatchToStubWorker(_RPC_MESSAGE *Message, unsigned int CallbackFlag, int Flags, long *ExceptionCode);
};

class LRPC_SCALL {
public:
    RPC_INTERFACE *Interface;
    _RPC_MESSAGE Message;
    _PORT_MESSAGE *Request;
    ULONG CallId;
    NOINLINE long DispatchRequest(int *Dispatched);
    NOINLINE void HandleRequest(_PORT_MESSAGE *Request, _PORT_MESSAGE *Reply, void *View, ULONG Flags, int Async, int Pipe);
};

class LRPC_ADDRESS {
public:
    void *Port;
    LRPC_SCALL *Calls[4];
    ULONG ActiveCalls;
    NOINLINE void ProcessIO(_PORT_MESSAGE *Message, int Type, void *Context);
};

long Invoke(SERVER_ROUTINE pFunction, void **pArgumentList, void *pFloatingPointArgs, ULONG cArguments)
{
    volatile unsigned long long stack[8];
    for (ULONG i = 0; i < cArguments && i < 8; i++)
        stack[i] = (unsigned long long)pArgumentList[i];
    long hr = pFunction(pArgumentList[0], pArgumentList[1]);
    return hr + (long)stack[0] + (long)(unsigned long long)pFloatingPointArgs;
}

long Ndr64StubWorker(void *pThis, void *pChannel, _RPC_MESSAGE *pRpcMsg, _MIDL_SERVER_INFO *pServerInfo,
                     const SERVER_ROUTINE *DispatchTable, void *pSyntaxInfo, ULONG *pdwStubPhase)
{
    void *args[4] = {pRpcMsg->Handle, pRpcMsg->Buffer, pThis, pChannel};
    volatile ULONG phase = 1;
    long status = Invoke(DispatchTable[pRpcMsg->ProcNum], args, pSyntaxInfo, 2);
    *pdwStubPhase = phase + (pServerInfo != 0);
    return status;
}

long NdrStubCall3(void *pThis, void *pChannel, _RPC_MESSAGE *pRpcMsg, ULONG *pdwStubPhase)
{
    _RPC_SERVER_INTERFACE *info = (_RPC_SERVER_INTERFACE *)pRpcMsg->RpcInterfaceInformation;
    _MIDL_SERVER_INFO *server = info->InterpreterInfo;
    volatile ULONG syntax = 3;
    long status = Ndr64StubWorker(pThis, pChannel, pRpcMsg, server, server->DispatchTable, (void *)(unsigned long long)syntax, pdwStubPhase);
    return status;
}

void NdrServerCallAll(_RPC_MESSAGE *pRpcMsg)
{
    ULONG phase = 0;
    volatile long status = NdrStubCall3(0, 0, pRpcMsg, &phase);
    pRpcMsg->RpcFlags |= phase;
}

NOINLINE long DispatchToStubInCNoAvrf(RPC_DISPATCH_FUNCTION Dispatch, _RPC_MESSAGE *Message, long *ExceptionCode)
{
    volatile long code = 0;
    Dispatch(Message);
    *ExceptionCode = code;
    return 0;
}

long RPC_INTERFACE::DispatchToStubWorker(_RPC_MESSAGE *Message, unsigned int CallbackFlag, int Flags, long *ExceptionCode)
{
    RPC_DISPATCH_FUNCTION dispatch = RpcInterfaceInformation.DispatchTable[Message->ProcNum & 0];
    NullManagerActiveCallCount += 1;
    long status = DispatchToStubInCNoAvrf(dispatch, Message, ExceptionCode);
    NullManagerActiveCallCount -= 1 + (long)CallbackFlag + Flags;
    return status;
}

long LRPC_SCALL::DispatchRequest(int *Dispatched)
{
    long exceptionCode = 0;
    Message.ProcNum = Request->MessageId & 0xff;
    long status = Interface->DispatchToStubWorker(&Message, 0, 0, &exceptionCode);
    *Dispatched = 1;
    return status + exceptionCode;
}

void LRPC_SCALL::HandleRequest(_PORT_MESSAGE *Req, _PORT_MESSAGE *Reply, void *View, ULONG Flags, int Async, int Pipe)
{
    int dispatched = 0;
    Request = Req;
    Message.Buffer = View;
    volatile long status = DispatchRequest(&dispatched);
    Reply->MessageId = Req->MessageId + Flags + (ULONG)Async + (ULONG)Pipe + (ULONG)dispatched;
}

void LRPC_ADDRESS::ProcessIO(_PORT_MESSAGE *Msg, int Type, void *Context)
{
    _PORT_MESSAGE reply;
    LRPC_SCALL *call = Calls[Msg->MessageId & 3];
    ActiveCalls += 1;
    call->HandleRequest(Msg, &reply, Context, (ULONG)Type, 0, 0);
    ActiveCalls -= 1 + reply.MessageId;
}

void LrpcIoComplete(_TP_CALLBACK_INSTANCE *Instance, void *Context, _TP_ALPC *Alpc, void *Message)
{
    LRPC_ADDRESS *address = (LRPC_ADDRESS *)Context;
    volatile int type = 1;
    address->ProcessIO((_PORT_MESSAGE *)Message, type, Alpc);
    (void)Instance;
}
