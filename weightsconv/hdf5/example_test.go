package hdf5_test

import (
	"fmt"
	"log"

	"github.com/mavis-xai/mavis/weightsconv/hdf5"
)

func Example() {
	f, err := hdf5.OpenFile("testdata/basic.h5")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()

	o, err := f.Lookup("a/chunked") // chunked, shuffled and deflated
	if err != nil {
		log.Fatal(err)
	}
	d := o.(*hdf5.Dataset)
	v, err := d.ReadFloat32()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Shape, d.Type, v[:4])

	a, err := f.Root().Attr("vnames")
	if err != nil {
		log.Fatal(err)
	}
	names, err := a.Strings()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(names)
	// Output:
	// [5 7] float32 LE [0 0.5 1 1.5]
	// [one two three]
}
