package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-bot/liaison/config"
)

// TestLoadSetup: the commands that help create the apps load a config
// whose credentials do not exist yet, and still refuse anything else wrong.
func TestLoadSetup(t *testing.T) {
	noEnv := func(string) string { return "" }
	if _, err := config.Load("../liaison.example.yaml", noEnv); err == nil {
		t.Fatal("Load took the example without its tokens")
	}
	c, err := config.LoadSetup("../liaison.example.yaml", noEnv)
	if err != nil {
		t.Fatalf("LoadSetup: %v", err)
	}
	if conn := c.Connection("internal-slack"); conn == nil || conn.Mode != config.ModeSocket || conn.BotToken.IsSet() {
		t.Fatalf("internal-slack = %+v, want socket mode, no token", conn)
	}

	data, err := os.ReadFile("../liaison.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), "platform: slack", "platform: slak", 1)
	p := filepath.Join(t.TempDir(), "liaison.yaml")
	if err := os.WriteFile(p, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = config.LoadSetup(p, noEnv)
	if err == nil || !strings.Contains(err.Error(), "platform") {
		t.Fatalf("LoadSetup of a config with a bad platform: %v, want its error", err)
	}
	if strings.Contains(err.Error(), "token") || strings.Contains(err.Error(), "not set") {
		t.Errorf("the error speaks of credentials: %v", err)
	}
}
