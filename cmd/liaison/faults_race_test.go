//go:build linux && race

package main

// raceBuild: the tests run with the race detector, so the binary they
// start is built with it too.
const raceBuild = true
