// wshub admin page: the JS SDK (sdk/js/dist/wshub.js) was not built when this binary was built,
// so this placeholder was embedded in its place. The page polls /admin/api/state instead of
// following $admin:stats through the hub. Build the SDK (cd sdk/js && npm ci && npm run build)
// and rebuild wshub to embed it.
window.WshubPlaceholder = 'the JS SDK was not built into this binary: the page polls';
