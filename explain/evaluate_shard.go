package main

// Sharding -evaluate across machines (issue 15): -shard K/N takes the
// images whose relative path hashes to K modulo N, so that N processes,
// on one machine or many, each evaluate a disjoint part of a folder, and
// explain -merge puts their outputs together.
//
// Why a hash of the path and not the sorted index modulo N: the index
// of every image after an added or removed file moves by one, so with
// index-based shards one new file would move most images to another
// shard, and every resumed shard would redo work another had done. A
// hash gives each image its shard for good: adding files adds work to
// some shards and changes nothing that is done. The price is uneven
// shards (binomially: 100 ± 10 images for 1,000 images in 10 shards).

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// shardSpec is shard K of N (0 <= K < N); the zero value and 0/1 mean
// the whole folder.
type shardSpec struct {
	K int `json:"k"`
	N int `json:"n"`
}

func (s shardSpec) String() string {
	if s.N <= 1 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// sharded reports whether s is a part of the folder.
func (s shardSpec) sharded() bool { return s.N > 1 }

// maxShards bounds N (a typo such as -shards 1000000000 is refused
// rather than making a billion empty shards).
const maxShards = 100_000

// parseShard reads -shard K/N.
func parseShard(v string) (shardSpec, error) {
	k, n, ok := strings.Cut(v, "/")
	K, err1 := strconv.Atoi(strings.TrimSpace(k))
	N, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil {
		return shardSpec{}, fmt.Errorf("-shard %q: want K/N, such as 0/10 (shard K of N, K from 0 to N-1)", v)
	}
	return checkShard(K, N, "-shard "+v)
}

func checkShard(K, N int, what string) (shardSpec, error) {
	switch {
	case N < 1 || N > maxShards:
		return shardSpec{}, fmt.Errorf("%s: %d shards, want 1..%d", what, N, maxShards)
	case K == N:
		return shardSpec{}, fmt.Errorf("%s: shards count from 0, so K is 0..%d (for Slurm, --array=0-%d)", what, N-1, N-1)
	case K < 0 || K >= N:
		return shardSpec{}, fmt.Errorf("%s: K=%d out of range 0..%d", what, K, N-1)
	}
	return shardSpec{K: K, N: N}, nil
}

// resolveShard decides the shard from -shard, -shards and the
// environment variable JOB_COMPLETION_INDEX, which a Kubernetes Indexed
// Job sets to the pod's index (0..completions-1): -shard wins; otherwise
// the index with -shards N. getenv is os.Getenv (a parameter for tests).
func resolveShard(shard string, shards int, getenv func(string) string) (shardSpec, error) {
	idx := getenv("JOB_COMPLETION_INDEX")
	switch {
	case shard != "":
		if shards != 0 {
			return shardSpec{}, fmt.Errorf("-shard %s and -shards %d: give one (-shards N takes K from JOB_COMPLETION_INDEX)", shard, shards)
		}
		return parseShard(shard)
	case shards != 0 && idx == "":
		return shardSpec{}, fmt.Errorf("-shards %d needs JOB_COMPLETION_INDEX (set by a Kubernetes Indexed Job); elsewhere give -shard K/%d", shards, shards)
	case shards != 0:
		k, err := strconv.Atoi(strings.TrimSpace(idx))
		if err != nil {
			return shardSpec{}, fmt.Errorf("JOB_COMPLETION_INDEX=%q is not a number", idx)
		}
		return checkShard(k, shards, fmt.Sprintf("JOB_COMPLETION_INDEX=%d with -shards %d", k, shards))
	case idx != "":
		// An Indexed Job without -shards would have every pod evaluate
		// every image into its own -out.
		return shardSpec{}, fmt.Errorf("JOB_COMPLETION_INDEX=%s is set (a Kubernetes Indexed Job) but -shards is not: give -shards N, the Job's completions", idx)
	}
	return shardSpec{K: 0, N: 1}, nil
}

// shardOf returns the shard, of n, of the image with relative path key
// (slash-separated, as in the results): the first 8 bytes of the key's
// SHA-256 as a big-endian integer, modulo n.
func shardOf(key string, n int) int {
	if n <= 1 {
		return 0
	}
	h := sha256.Sum256([]byte(key))
	return int(binary.BigEndian.Uint64(h[:8]) % uint64(n))
}

// getenv is os.Getenv; tests replace it.
var getenv = os.Getenv
