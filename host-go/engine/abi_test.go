package engine

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// abiEnums are the enums of assembly/abi.ts and the prefix of the Go
// constants that mirror them in abi.go.
var abiEnums = map[string]string{
	"Event":   "Event",
	"Action":  "Action",
	"Option":  "Option",
	"Default": "Default",
}

// TestABIMatchesAssembly fails, naming the constant, when an event kind, action
// kind, option id or option default of assembly/abi.ts differs from abi.go.
func TestABIMatchesAssembly(t *testing.T) {
	ts := assemblyABI(t, "../../assembly/abi.ts")
	goABI := goConstants(t, "abi.go")
	for enum, prefix := range abiEnums {
		members, ok := ts[enum]
		if !ok {
			t.Errorf("assembly/abi.ts has no enum %s", enum)
			continue
		}
		seen := map[string]bool{}
		for name, value := range members {
			goName, goValue, ok := lookupFold(goABI, prefix+name)
			switch {
			case !ok:
				t.Errorf("%s.%s = %d in assembly/abi.ts has no %s%s in abi.go", enum, name, value, prefix, name)
			case goValue != value:
				t.Errorf("%s.%s is %d in assembly/abi.ts but %s is %d in abi.go", enum, name, value, goName, goValue)
			}
			seen[strings.ToLower(prefix+name)] = true
		}
		for goName := range goABI {
			if strings.HasPrefix(goName, prefix) && !seen[strings.ToLower(goName)] && goName != "NumOptions" {
				t.Errorf("%s in abi.go has no %s.%s in assembly/abi.ts", goName, enum, strings.TrimPrefix(goName, prefix))
			}
		}
	}
	if n := int64(len(ts["Option"])); goABI["NumOptions"] != n {
		t.Errorf("NumOptions is %d in abi.go but assembly/abi.ts has %d options", goABI["NumOptions"], n)
	}
}

// assemblyABI reads the `export const enum Name { Member = value, ... }`
// blocks of an AssemblyScript file.
func assemblyABI(t *testing.T, path string) map[string]map[string]int64 {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the engine's ABI: %v", err)
	}
	enumRE := regexp.MustCompile(`(?s)export const enum (\w+) \{(.*?)\n\}`)
	memberRE := regexp.MustCompile(`(?m)^\s*(\w+)\s*=\s*([^,\n]+),`)
	enums := map[string]map[string]int64{}
	for _, e := range enumRE.FindAllStringSubmatch(string(src), -1) {
		members := map[string]int64{}
		for _, m := range memberRE.FindAllStringSubmatch(e[2], -1) {
			v, err := evalProduct(m[2])
			if err != nil {
				t.Fatalf("%s.%s in %s: %v", e[1], m[1], path, err)
			}
			members[m[1]] = v
		}
		enums[e[1]] = members
	}
	return enums
}

// evalProduct evaluates an integer or a product of integers, such as 30 * 60 * 1000.
func evalProduct(expr string) (int64, error) {
	v := int64(1)
	for _, f := range strings.Split(expr, "*") {
		n, err := strconv.ParseInt(strings.TrimSpace(f), 0, 64)
		if err != nil {
			return 0, err
		}
		v *= n
	}
	return v, nil
}

// goConstants type-checks a Go file and returns its integer constants.
func goConstants(t *testing.T, path string) map[string]int64 {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importer.Default()}
	pkg, err := conf.Check("engine", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]int64{}
	for _, name := range pkg.Scope().Names() {
		if c, ok := pkg.Scope().Lookup(name).(*types.Const); ok {
			if v, exact := constantInt64(c); exact {
				consts[name] = v
			}
		}
	}
	return consts
}

func constantInt64(c *types.Const) (int64, bool) {
	v, err := strconv.ParseInt(c.Val().ExactString(), 10, 64)
	return v, err == nil
}

// lookupFold finds a constant by name, ignoring case (Http is HTTP, CacheTtl is CacheTTL).
func lookupFold(consts map[string]int64, name string) (string, int64, bool) {
	for n, v := range consts {
		if strings.EqualFold(n, name) {
			return n, v, true
		}
	}
	return "", 0, false
}
