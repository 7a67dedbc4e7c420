package main

import (
	"os"
	"testing"
)

func TestAlignSDKLogLevels(t *testing.T) {
	sdkVars := []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"}
	tests := []struct {
		name string
		env  map[string]string
		want map[string]string
	}{
		{"no logging asked for: the SDKs log nothing", map[string]string{},
			map[string]string{"TF_LOG_SDK": "OFF", "TF_LOG_SDK_PROTO": "OFF", "TF_LOG_SDK_FRAMEWORK": "OFF"}},
		{"TF_LOG sets the level", map[string]string{"TF_LOG": "DEBUG"},
			map[string]string{"TF_LOG_SDK": "DEBUG", "TF_LOG_SDK_PROTO": "DEBUG", "TF_LOG_SDK_FRAMEWORK": "DEBUG"}},
		{"TF_LOG=JSON is TRACE", map[string]string{"TF_LOG": "json"},
			map[string]string{"TF_LOG_SDK": "TRACE", "TF_LOG_SDK_PROTO": "TRACE", "TF_LOG_SDK_FRAMEWORK": "TRACE"}},
		{"TF_LOG_PROVIDER beats TF_LOG", map[string]string{"TF_LOG": "WARN", "TF_LOG_PROVIDER": "TRACE"},
			map[string]string{"TF_LOG_SDK": "TRACE", "TF_LOG_SDK_PROTO": "TRACE", "TF_LOG_SDK_FRAMEWORK": "TRACE"}},
		{"a user's own SDK levels win", map[string]string{"TF_LOG_SDK_FRAMEWORK": "TRACE"},
			map[string]string{"TF_LOG_SDK": "OFF", "TF_LOG_SDK_PROTO": "OFF", "TF_LOG_SDK_FRAMEWORK": "TRACE"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range append([]string{"TF_LOG", "TF_LOG_PROVIDER"}, sdkVars...) {
				t.Setenv(v, tc.env[v]) // restored after the test
			}
			alignSDKLogLevels()
			for _, v := range sdkVars {
				if got := os.Getenv(v); got != tc.want[v] {
					t.Errorf("%s = %q, want %q", v, got, tc.want[v])
				}
			}
		})
	}
}
