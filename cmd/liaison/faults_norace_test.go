//go:build linux && !race

package main

// raceBuild: the tests run without the race detector, and so does the
// binary they start.
const raceBuild = false
