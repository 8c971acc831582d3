module wshub.dev/sdk/go

go 1.19
