module github.com/ntdbg/ntdbg

go 1.26.0

require (
	github.com/alecthomas/participle/v2 v2.1.4
	github.com/chzyer/readline v1.5.1
	github.com/fatih/color v1.19.0
	github.com/mattn/go-isatty v0.0.20
	github.com/ulikunitz/xz v0.5.17
	golang.org/x/arch v0.33.0
	golang.org/x/sys v0.42.0
)

require github.com/mattn/go-colorable v0.1.14 // indirect
