"""What the tests, the benchmarks, the browser tests' model server and the screenshot script
share: a fake model server, a websocket client, request builders, a bounded poll, a tiny
FIM model writer and a look at a running llama-server."""
