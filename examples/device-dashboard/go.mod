module wshub.example/device-dashboard

go 1.19

require wshub.dev/sdk/go v0.0.0

// The backend SDK is this repository's sdk/go, used from here: nothing is downloaded.
replace wshub.dev/sdk/go => ../../sdk/go
