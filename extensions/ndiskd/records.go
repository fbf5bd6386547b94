package ndiskd

import "github.com/ntdbg/ntdbg/commands"

// The records of the !ndiskd commands (issue 13); their schemas are
// docs/schemas/ndis_*.schema.json, generated like the core kinds'.

// MiniportRecord is one miniport of !ndiskd.miniports or of a
// minidriver's MINIPORTS list.
type MiniportRecord struct {
	Miniport   string  `json:"miniport" schema:"hex" doc:"the NDIS_MINIPORT_BLOCK"`
	MiniDriver *string `json:"minidriver" schema:"hex" doc:"its NDIS_M_DRIVER_BLOCK (null in a minidriver's own list)"`
	Name       string  `json:"name" doc:"the adapter's name"`
}

// MiniDriverRecord is one miniport driver of !ndiskd.minidriver.
type MiniDriverRecord struct {
	Handle       string  `json:"handle" schema:"hex" doc:"the NDIS_M_DRIVER_BLOCK"`
	ServiceName  string  `json:"service_name" doc:"the driver's service name"`
	Context      *string `json:"driver_context" schema:"hex" doc:"MiniportDriverContext (null in the list)"`
	DriverObject *string `json:"driver_object" schema:"hex" doc:"the DRIVER_OBJECT (null in the list)"`
	Image        *string `json:"image" doc:"the driver image (null in the list)"`
	RegistryPath *string `json:"registry_path" doc:"the service's registry path (null in the list)"`
}

// HandlerRecord is one handler of !ndiskd.minidriver -handlers.
type HandlerRecord struct {
	Name     string  `json:"name" doc:"the handler (InitializeHandlerEx ...)"`
	Function *string `json:"function" schema:"hex" doc:"its function pointer (null: none, or unreadable)"`
	Symbol   *string `json:"symbol" doc:"the function's symbol, ndiskd's form"`
	Readable bool    `json:"readable" doc:"the field could be read (false prints ?)"`
}

func init() {
	commands.AddRecordKind("ndis_miniport", MiniportRecord{})
	commands.AddRecordKind("ndis_minidriver", MiniDriverRecord{})
	commands.AddRecordKind("ndis_handler", HandlerRecord{})
}

func hexp(v uint64) *string { s := commands.Hex(v); return &s }

func strp(s string) *string { return &s }
