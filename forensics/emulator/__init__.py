"""A local Cloud Logging (HTTP/JSON) and Cloud Monitoring (gRPC) emulator for tests and the demo."""
