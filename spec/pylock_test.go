package spec

import (
	"strings"
	"testing"
)

func TestPylockRequirements(t *testing.T) {
	lock := `lock-version = "1.0"
created-by = "uv"
[[packages]]
name = "numpy"
version = "2.4.6"
wheels = [{ url = "http://x/numpy-2.4.6-cp312-cp312-musllinux_1_2_x86_64.whl" }]
[[packages]]
name = "pywin32"
version = "311"
marker = "sys_platform == 'win32'"
`
	got, ok := PylockRequirements([]byte(lock))
	if !ok || string(got) != "numpy==2.4.6\npywin32==311 ; sys_platform == 'win32'\n" {
		t.Errorf("PylockRequirements = %q, %v", got, ok)
	}
	for _, bad := range []string{
		lock + "[[packages]]\nname = \"mine\"\ndirectory = { path = \"libs/mine\" }\n",
		lock + "[[packages]]\nname = \"tool\"\nversion = \"1\"\nvcs = { type = \"git\", url = \"https://x/tool.git\" }\n",
		"[[packages]\n",
	} {
		if _, ok := PylockRequirements([]byte(bad)); ok {
			t.Errorf("written as requirements: %s", strings.TrimSpace(bad))
		}
	}
}

func TestPylockIndexRequirements(t *testing.T) {
	lock := `lock-version = "1.0"
[[packages]]
name = "cowsay"
version = "6.1"
index = "https://pypi.org/simple"
wheels = [{ url = "https://files.example/cowsay-6.1-py3-none-any.whl", hashes = { sha256 = "aa11" } }]
[[packages]]
name = "pyyaml"
version = "6.0.3"
marker = "sys_platform == 'linux'"
index = "https://pypi.org/simple"
sdist = { url = "https://files.example/pyyaml-6.0.3.tar.gz", hashes = { sha256 = "cc33" } }
wheels = [{ url = "https://files.example/pyyaml-6.0.3-cp312.whl", hashes = { sha256 = "bb22" } }]
`
	got, ok := PylockIndexRequirements([]byte(lock))
	want := "cowsay==6.1 --hash=sha256:aa11\npyyaml==6.0.3 ; sys_platform == 'linux' --hash=sha256:bb22 --hash=sha256:cc33\n"
	if !ok || string(got) != want {
		t.Errorf("PylockIndexRequirements = %q, %v\nwant %q", got, ok, want)
	}
	// A file from no index, or with no hash, is installed from where the lock says.
	for _, bad := range []string{
		strings.Replace(lock, `index = "https://pypi.org/simple"`+"\nwheels", "wheels", 1),
		strings.Replace(lock, `, hashes = { sha256 = "aa11" }`, "", 1),
	} {
		if _, ok := PylockIndexRequirements([]byte(bad)); ok {
			t.Errorf("installed from the index: %s", bad)
		}
	}
}

// FuzzPylockRequirements: any pylock.toml gives requirement lines, one pinned package a
// line, or none (not resolved ahead); never a panic.
func FuzzPylockRequirements(f *testing.F) {
	f.Add([]byte("lock-version = \"1.0\"\n[[packages]]\nname = \"numpy\"\nversion = \"2.4.6\"\nmarker = \"sys_platform == 'linux'\"\n"))
	f.Add([]byte("[[packages]]\nname = \"x\"\ndirectory = { path = \".\" }\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, ok := PylockRequirements(data)
		if !ok {
			return
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			if line != "" && !strings.Contains(line, "==") {
				t.Fatalf("line %q pins no version", line)
			}
		}
	})
}
