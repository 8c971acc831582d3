module wshub.example/device-dashboard

go 1.19
