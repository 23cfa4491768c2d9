package hdf5

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestAgainstH5dump compares the structure and every value this reader sees
// with what the HDF5 library's h5dump prints for the same file.
func TestAgainstH5dump(t *testing.T) {
	if _, err := exec.LookPath("h5dump"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("h5dump not on PATH (CI=true); install hdf5-tools")
		}
		t.Skip("h5dump not on PATH; apt-get install hdf5-tools to run this cross-check")
	}
	for _, name := range []string{"basic.h5", "latest.h5", "many_links.h5"} {
		t.Run(name, func(t *testing.T) { compareH5dump(t, "testdata/"+name) })
	}
}

func h5dump(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("h5dump", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("h5dump %v: %v\n%s", args, err, out)
	}
	return string(out)
}

var contentsLine = regexp.MustCompile(`^\s*(group|dataset|link)\s+(\S+)(?:\s+->\s+(\S+))?\s*$`)

func compareH5dump(t *testing.T, path string) {
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	// Structure: h5dump -n lists every group, dataset and soft link.
	var want []string
	for _, line := range strings.Split(h5dump(t, "-n", path), "\n") {
		if m := contentsLine.FindStringSubmatch(line); m != nil {
			want = append(want, strings.TrimSpace(m[1]+" "+m[2]+" "+m[3]))
		}
	}
	var got []string
	var objects []Object
	err = f.Root().Walk(func(p string, o Object) error {
		objects = append(objects, o)
		switch o := o.(type) {
		case *Group:
			got = append(got, "group "+p)
			for _, l := range o.Links() {
				if l.Kind == SoftLink {
					got = append(got, "link "+joinPath(p, l.Name)+" "+l.Target)
				}
			}
		case *Dataset:
			got = append(got, "dataset "+p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("structure differs\ngot:\n%s\nh5dump:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Values of every dataset and attribute, from one full dump.
	data := dumpData(h5dump(t, "-y", path))
	for _, o := range objects {
		if d, ok := o.(*Dataset); ok {
			compareValues(t, d.Path(), data, d.Type, func() ([]string, []float64, error) {
				if isString(d.Type) {
					s, err := d.ReadStrings()
					return s, nil, err
				}
				v, err := d.ReadFloat64()
				return nil, v, err
			})
		}
		for _, a := range o.Attrs() {
			compareValues(t, joinPath(o.Path(), a.Name), data, a.Type, func() ([]string, []float64, error) {
				if isString(a.Type) {
					s, err := a.Strings()
					return s, nil, err
				}
				v, err := a.Float64s()
				return nil, v, err
			})
		}
	}
}

var blockLine = regexp.MustCompile(`^\s*([A-Z_]+)\s*(?:"([^"]*)")?[^{}"]*\{\s*$`)

// dumpData maps object and attribute paths to the text inside their DATA
// blocks in h5dump's output.
func dumpData(dump string) map[string]string {
	out := map[string]string{}
	var stack []string // path of each open block
	cur := func() string {
		if len(stack) == 0 {
			return ""
		}
		return stack[len(stack)-1]
	}
	var data *strings.Builder
	for _, line := range strings.Split(dump, "\n") {
		trim := strings.TrimSpace(line)
		if data != nil {
			if trim == "}" {
				out[cur()] = data.String()
				data = nil
				continue
			}
			data.WriteString(trim + "\n")
			continue
		}
		if m := blockLine.FindStringSubmatch(line); m != nil {
			switch m[1] {
			case "DATA":
				data = &strings.Builder{}
				continue
			case "GROUP", "DATASET", "ATTRIBUTE":
				if m[2] == "/" {
					stack = append(stack, "/")
				} else {
					stack = append(stack, joinPath(cur(), m[2]))
				}
			default:
				stack = append(stack, cur())
			}
			continue
		}
		if strings.HasSuffix(trim, "}") && !strings.Contains(trim, "{") && len(stack) > 0 {
			stack = stack[:len(stack)-1]
		}
	}
	return out
}

func isString(t *Datatype) bool { return t.Class == ClassString || t.Class == ClassVarLen }

var (
	strToken = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
)

func compareValues(t *testing.T, what string, data map[string]string, typ *Datatype, read func() ([]string, []float64, error)) {
	t.Helper()
	strs, nums, err := read()
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	body, ok := data[what]
	if !ok && (len(strs) > 0 || len(nums) > 0) {
		t.Errorf("%s: no DATA block in h5dump output", what)
		return
	}
	if isString(typ) {
		var want []string
		for _, s := range strToken.FindAllStringSubmatch(body, -1) {
			v := s[1]
			for strings.HasSuffix(v, `\000`) { // h5dump shows null padding
				v = strings.TrimSuffix(v, `\000`)
			}
			want = append(want, v)
		}
		if fmt.Sprint(strs) != fmt.Sprint(want) {
			t.Errorf("%s: strings %q, h5dump %q", what, strs, want)
		}
		return
	}
	var want []float64
	for _, tok := range strings.FieldsFunc(body, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
		v, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			t.Errorf("%s: cannot parse h5dump value %q", what, tok)
			return
		}
		want = append(want, v)
	}
	if len(nums) != len(want) {
		t.Errorf("%s: %d values, h5dump shows %d", what, len(nums), len(want))
		return
	}
	for i := range nums {
		if math.Abs(nums[i]-want[i]) > 1e-6*math.Max(1, math.Abs(want[i])) {
			t.Errorf("%s[%d] = %v, h5dump %v", what, i, nums[i], want[i])
			return
		}
	}
}
