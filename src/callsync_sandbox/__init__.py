"""CRM API emulators with fault injection, for tests, benchmarks and `callsync demo`."""
