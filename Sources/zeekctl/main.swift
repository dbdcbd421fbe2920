import ZeekctlCLI

// `zeekctl`: everything but this line lives in the ZeekctlCLI target, where tests reach it.
await Zeekctl.main()
