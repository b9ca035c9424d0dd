// yamux_peer: a hashicorp/yamux peer for libdevx's interop tests and bridge benchmark.
//
// It speaks yamux over one TCP connection in either role, dialling (-connect) or accepting one
// connection (-listen, which prints "listening PORT" first). Modes:
//
//	serve         accept streams; each starts with one command line (see serveStream)
//	noaccept      never accept (with -backlog 1 the second inbound stream is reset)
//	open-echo     open -streams streams against an echo peer, each sending -size pattern bytes;
//	              verify the echo, then close; prints "open-echo ok"
//	half-close    expect -size pattern bytes and EOF on a stream we open, then answer "ok"
//	goaway-probe  one echo stream, then expect OpenStream to fail with the remote GoAway
//	expect-reset  open a stream, send -size bytes and expect the peer to reset it
//	keepalive     check the peer answers pings, print "ready", then wait until the session dies
//	              and print "keepalive timeout" if our keepalive closed it
//	bench         Go<->Go over loopback TCP: the libdevx bridge benchmark's three measurements,
//	              as one JSON line
//
// Payloads are a deterministic pattern (pattern below, mirrored by the C++ tests) so both sides
// verify every byte without exchanging checksums.
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/yamux"
)

var (
	role      = flag.String("role", "server", "yamux role: client or server")
	connect   = flag.String("connect", "", "dial this host:port")
	listen    = flag.String("listen", "", "accept one connection on this host:port")
	mode      = flag.String("mode", "serve", "scenario")
	streams   = flag.Int("streams", 1, "streams (open-echo, bench)")
	size      = flag.Int64("size", 1<<20, "bytes per stream (open-echo) or in total (bench)")
	keepalive = flag.Bool("keepalive", true, "yamux EnableKeepAlive")
	kaEvery   = flag.Duration("keepalive-interval", 30*time.Second, "yamux KeepAliveInterval")
	writeTO   = flag.Duration("write-timeout", 10*time.Second, "yamux ConnectionWriteTimeout")
	window    = flag.Uint("window", 256*1024, "yamux MaxStreamWindowSize")
	backlog   = flag.Int("backlog", 256, "yamux AcceptBacklog")
	rounds    = flag.Int("rounds", 20000, "request/response round trips (bench)")
)

// logBuf keeps yamux's log so the keepalive mode can tell why the session ended.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	os.Stderr.Write(p)
	return l.buf.Write(p)
}

func (l *logBuf) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.buf.String(), s)
}

var yamuxLog = &logBuf{}

func config() *yamux.Config {
	c := yamux.DefaultConfig()
	c.EnableKeepAlive = *keepalive
	c.KeepAliveInterval = *kaEvery
	c.ConnectionWriteTimeout = *writeTO
	c.MaxStreamWindowSize = uint32(*window)
	c.AcceptBacklog = *backlog
	c.LogOutput = yamuxLog
	return c
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "yamux_peer: "+format+"\n", args...)
	os.Exit(1)
}

// splitmix64, also in the C++ tests: byte i of the stream with this seed is byte i%8 of
// splitmix64(seed<<40 ^ i/8).
func splitmix64(x uint64) uint64 {
	z := x + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func pattern(seed uint64, offset int64, out []byte) {
	for i := range out {
		pos := uint64(offset) + uint64(i)
		out[i] = byte(splitmix64(seed<<40^pos>>3) >> (8 * (pos & 7)))
	}
}

func writePattern(w io.Writer, seed uint64, n int64) error {
	buf := make([]byte, 64*1024)
	for off := int64(0); off < n; {
		chunk := buf
		if rest := n - off; rest < int64(len(chunk)) {
			chunk = chunk[:rest]
		}
		pattern(seed, off, chunk)
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		off += int64(len(chunk))
	}
	return nil
}

// readPattern reads exactly n bytes from r and checks they are the seed's pattern.
func readPattern(r io.Reader, seed uint64, n int64) error {
	buf := make([]byte, 64*1024)
	want := make([]byte, len(buf))
	for off := int64(0); off < n; {
		chunk := buf
		if rest := n - off; rest < int64(len(chunk)) {
			chunk = chunk[:rest]
		}
		got, err := io.ReadFull(r, chunk)
		pattern(seed, off, want[:got])
		if !bytes.Equal(chunk[:got], want[:got]) {
			return fmt.Errorf("wrong byte near offset %d", off)
		}
		off += int64(got)
		if err != nil {
			return fmt.Errorf("after %d of %d bytes: %v", off, n, err)
		}
	}
	return nil
}

// verifyPattern reads r to EOF and checks it is exactly n bytes of the seed's pattern.
func verifyPattern(r io.Reader, seed uint64, n int64) error {
	if err := readPattern(r, seed, n); err != nil {
		return err
	}
	var extra [1]byte
	if got, err := r.Read(extra[:]); got != 0 || err != io.EOF {
		return fmt.Errorf("no EOF after %d bytes (read %d, %v)", n, got, err)
	}
	return nil
}

func dialOrAccept() net.Conn {
	if *connect != "" {
		c, err := net.Dial("tcp", *connect)
		if err != nil {
			fail("%v", err)
		}
		return c
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		fail("%v", err)
	}
	fmt.Printf("listening %d\n", l.Addr().(*net.TCPAddr).Port)
	c, err := l.Accept()
	if err != nil {
		fail("%v", err)
	}
	l.Close()
	return c
}

func newSession(conn net.Conn, client bool) *yamux.Session {
	var s *yamux.Session
	var err error
	if client {
		s, err = yamux.Client(conn, config())
	} else {
		s, err = yamux.Server(conn, config())
	}
	if err != nil {
		fail("%v", err)
	}
	return s
}

// resets counts streams that the peer reset while serve was reading them.
type resetCounter struct {
	mu   sync.Mutex
	n    int
	cond *sync.Cond
}

// serveStream runs one command, read as the stream's first line:
//
//	echo                  copy back until EOF, then half-close
//	sink SIZE SEED        verify SIZE pattern bytes then EOF, answer "ok" or "bad: why"
//	source SIZE SEED      send SIZE pattern bytes, then half-close
//	goaway                send GoAway, answer "ok"
//	await-resets N        answer "ok" once N streams were reset by the peer while being read
func serveStream(s *yamux.Session, st *yamux.Stream, resets *resetCounter) {
	defer st.Close()
	in := bufio.NewReader(st)
	line, err := in.ReadString('\n')
	if err != nil {
		return
	}
	var n int64
	var seed uint64
	f := strings.Fields(line)
	switch {
	case len(f) == 1 && f[0] == "echo":
		if _, err := io.Copy(st, in); err != nil {
			if errors.Is(err, yamux.ErrConnectionReset) {
				resets.mu.Lock()
				resets.n++
				resets.cond.Broadcast()
				resets.mu.Unlock()
			}
		}
	case len(f) == 3 && f[0] == "sink":
		fmt.Sscan(f[1]+" "+f[2], &n, &seed)
		if err := verifyPattern(in, seed, n); err != nil {
			fmt.Fprintf(st, "bad: %v\n", err)
		} else {
			fmt.Fprintf(st, "ok\n")
		}
	case len(f) == 3 && f[0] == "source":
		fmt.Sscan(f[1]+" "+f[2], &n, &seed)
		writePattern(st, seed, n)
	case len(f) == 1 && f[0] == "goaway":
		if err := s.GoAway(); err != nil {
			fmt.Fprintf(st, "bad: %v\n", err)
		} else {
			fmt.Fprintf(st, "ok\n")
		}
	case len(f) == 2 && f[0] == "await-resets":
		fmt.Sscan(f[1], &n)
		resets.mu.Lock()
		for int64(resets.n) < n {
			resets.cond.Wait()
		}
		resets.mu.Unlock()
		fmt.Fprintf(st, "ok\n")
	default:
		fmt.Fprintf(st, "bad: unknown command %q\n", line)
	}
}

func serve(s *yamux.Session) {
	resets := &resetCounter{}
	resets.cond = sync.NewCond(&resets.mu)
	for {
		st, err := s.AcceptStream()
		if err != nil {
			return // the peer closed the session
		}
		go serveStream(s, st, resets)
	}
}

// echoRoundTrip sends n pattern bytes on st while reading the echo, checks it, and closes.
//
// This yamux (Debian's 2019 snapshot) returns EOF from Read on a stream it has half-closed as soon
// as its buffer is empty, so a Go stream cannot wait for data after its own Close: it closes
// only once the whole echo is in (halfClose tests the other order).
func echoRoundTrip(st *yamux.Stream, seed uint64, n int64) error {
	werr := make(chan error, 1)
	go func() { werr <- writePattern(st, seed, n) }()
	if err := readPattern(st, seed, n); err != nil {
		return err
	}
	if err := <-werr; err != nil {
		return err
	}
	return st.Close()
}

func openEcho(s *yamux.Session) {
	var wg sync.WaitGroup
	errs := make(chan error, *streams)
	for i := 0; i < *streams; i++ {
		st, err := s.OpenStream()
		if err != nil {
			fail("open stream %d: %v", i, err)
		}
		wg.Add(1)
		go func(i int, st *yamux.Stream) {
			defer wg.Done()
			if err := echoRoundTrip(st, uint64(i+1), *size); err != nil {
				errs <- fmt.Errorf("stream %d: %v", st.StreamID(), err)
			}
		}(i, st)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		fail("%v", err)
	}
	fmt.Printf("open-echo ok streams=%d bytes=%d\n", *streams, *size)
}

func goawayProbe(s *yamux.Session) {
	st, err := s.OpenStream()
	if err != nil {
		fail("open: %v", err)
	}
	// The peer sends GoAway before echoing, so it has been processed once the echo is back.
	if err := echoRoundTrip(st, 1, 1024); err != nil {
		fail("echo: %v", err)
	}
	if _, err := s.OpenStream(); err != yamux.ErrRemoteGoAway {
		fail("open after GoAway: got %v, want %v", err, yamux.ErrRemoteGoAway)
	}
	fmt.Println("goaway ok")
}

// halfClose expects the peer to send -size pattern bytes and half-close first; after that EOF it
// still answers "ok", which the peer reads on its half-closed stream.
func halfClose(s *yamux.Session) {
	st, err := s.OpenStream()
	if err != nil {
		fail("open: %v", err)
	}
	if err := verifyPattern(st, 1, *size); err != nil {
		fail("%v", err)
	}
	if _, err := fmt.Fprintf(st, "ok\n"); err != nil {
		fail("write after the peer's FIN: %v", err)
	}
	st.Close()
	fmt.Println("half-close ok")
}

func expectReset(s *yamux.Session) {
	st, err := s.OpenStream()
	if err != nil {
		fail("open: %v", err)
	}
	// The write may already see the reset; the read must.
	writePattern(st, 1, *size)
	if _, err := io.Copy(io.Discard, st); err != yamux.ErrConnectionReset {
		fail("read: got %v, want %v", err, yamux.ErrConnectionReset)
	}
	fmt.Println("reset ok")
}

func keepaliveMode(s *yamux.Session) {
	st, err := s.OpenStream()
	if err != nil {
		fail("open: %v", err)
	}
	if err := echoRoundTrip(st, 1, 1024); err != nil {
		fail("echo: %v", err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.Ping(); err != nil {
			fail("ping: %v", err)
		}
	}
	fmt.Println("ready")
	<-s.CloseChan()
	if !yamuxLog.contains("keepalive failed") {
		fail("session closed, but not by the keepalive")
	}
	fmt.Println("keepalive timeout")
}

// ----- bench --------------------------------------------------------------------------------

// The benchmark's sessions use the default config apart from the window (-window) and have no
// keepalive, like the C++ side in bench/yamux_bench.cpp.
func benchPair() (client, server *yamux.Session) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("%v", err)
	}
	defer l.Close()
	accepted := make(chan net.Conn)
	go func() {
		c, err := l.Accept()
		if err != nil {
			fail("%v", err)
		}
		accepted <- c
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		fail("%v", err)
	}
	return newSession(c, true), newSession(<-accepted, false)
}

// cpuSeconds is this process's CPU time (both ends of the benchmark run here).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// bulk sends total bytes split over n streams (client -> server); the server drains each stream
// and answers one byte after EOF so the time covers delivery. Returns bytes per second and CPU
// seconds per GiB.
func bulk(client, server *yamux.Session, n int, total int64) (float64, float64) {
	buf := make([]byte, 64*1024)
	per := total / int64(n) / int64(len(buf)) * int64(len(buf))
	go func() {
		for i := 0; i < n; i++ {
			st, err := server.AcceptStream()
			if err != nil {
				fail("accept: %v", err)
			}
			go func() {
				io.Copy(io.Discard, st)
				st.Write([]byte{1})
				st.Close()
			}()
		}
	}()
	start := time.Now()
	cpuStart := cpuSeconds()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		st, err := client.OpenStream()
		if err != nil {
			fail("open: %v", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sent := int64(0); sent < per; sent += int64(len(buf)) {
				if _, err := st.Write(buf); err != nil {
					fail("write: %v", err)
				}
			}
			st.Close()
			io.ReadFull(st, buf[:1])
		}()
	}
	wg.Wait()
	bytes := float64(per * int64(n))
	return bytes / time.Since(start).Seconds(), (cpuSeconds() - cpuStart) / (bytes / (1 << 30))
}

// latency does 1 KiB request/response round trips on one stream; returns p50 and p99 in µs.
func latency(client, server *yamux.Session, n int) (float64, float64) {
	go func() {
		st, err := server.AcceptStream()
		if err != nil {
			fail("accept: %v", err)
		}
		buf := make([]byte, 1024)
		for {
			if _, err := io.ReadFull(st, buf); err != nil {
				st.Close()
				return
			}
			st.Write(buf)
		}
	}()
	st, err := client.OpenStream()
	if err != nil {
		fail("open: %v", err)
	}
	buf := make([]byte, 1024)
	warmup := n / 10
	samples := make([]float64, 0, n)
	for i := 0; i < warmup+n; i++ {
		binary.LittleEndian.PutUint64(buf, uint64(i))
		t := time.Now()
		if _, err := st.Write(buf); err != nil {
			fail("write: %v", err)
		}
		if _, err := io.ReadFull(st, buf); err != nil {
			fail("read: %v", err)
		}
		if i >= warmup {
			samples = append(samples, float64(time.Since(t).Nanoseconds())/1000)
		}
	}
	st.Close()
	sort.Float64s(samples)
	return samples[len(samples)/2], samples[len(samples)*99/100]
}

func bench() {
	*keepalive = false
	client, server := benchPair()
	single, singleCPU := bulk(client, server, 1, *size)
	multi, multiCPU := bulk(client, server, *streams, *size)
	p50, p99 := latency(client, server, *rounds)
	out, _ := json.Marshal(map[string]float64{
		"single_bytes_per_s":   single,
		"single_cpu_s_per_gib": singleCPU,
		"multi_bytes_per_s":    multi,
		"multi_cpu_s_per_gib":  multiCPU,
		"rr_p50_us":            p50,
		"rr_p99_us":            p99,
	})
	fmt.Println(string(out))
	client.Close()
	server.Close()
}

func main() {
	flag.Parse()
	if *mode == "bench" {
		bench()
		return
	}
	if *role != "client" && *role != "server" {
		fail("-role must be client or server")
	}
	if (*connect == "") == (*listen == "") {
		fail("need exactly one of -connect and -listen")
	}
	s := newSession(dialOrAccept(), *role == "client")
	switch *mode {
	case "serve":
		serve(s)
	case "noaccept":
		<-s.CloseChan()
	case "open-echo":
		openEcho(s)
	case "goaway-probe":
		goawayProbe(s)
	case "half-close":
		halfClose(s)
	case "expect-reset":
		expectReset(s)
	case "keepalive":
		keepaliveMode(s)
	default:
		fail("unknown mode %q", *mode)
	}
	s.Close()
}
