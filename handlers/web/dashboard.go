package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/liaison-bot/liaison/bot"
)

// The managers' dashboard: a read-only page of the figures bot.Service.Stats
// computes, drawn with Chart.js, all served from the binary.
//
// It has no accounts: the configured token is its only lock. A client
// shows it as "Authorization: Bearer <token>", or signs in once
// (/dashboard?token=… or the sign-in form) and then holds a cookie with an
// expiry and an HMAC keyed by the token, never the token itself; changing
// the token signs everyone out.

// DashboardSource is what the dashboard reads: the figures, and the routes
// to break them down by.
type DashboardSource interface {
	Stats(ctx context.Context, q bot.StatsQuery, loc *time.Location) (*bot.StatsReport, error)
	Routes() []string
}

// ServiceSource is the dashboard's source over the domain: its figures, and
// its configured routes in order.
func ServiceSource(s *bot.Service) DashboardSource { return serviceSource{s} }

type serviceSource struct{ *bot.Service }

func (s serviceSource) Routes() []string {
	var names []string
	for _, r := range s.Router.Routes() {
		names = append(names, r.Name)
	}
	return names
}

// ChartJSVersion is the Chart.js the dashboard serves (assets/README.md
// says where the file comes from).
const ChartJSVersion = "4.6.1"

const (
	// DashboardSession is how long a sign-in lasts.
	DashboardSession = 14 * 24 * time.Hour
	// DashboardRefresh is how often the page fetches the figures again.
	DashboardRefresh = 30 * time.Second
	// DefaultDashboardDays is the period shown unless ?days= says otherwise.
	DefaultDashboardDays = 30
	// dashboardCookie holds a sign-in.
	dashboardCookie = "liaison_dashboard"
	// statsTimeout bounds computing the figures of one request, within
	// the server's write timeout.
	statsTimeout = 10 * time.Second
	// formLimit bounds a sign-in form's body.
	formLimit = 4 << 10
)

// DashboardPeriods are the periods, in days, the page offers.
var DashboardPeriods = []int{7, 30, 90}

// dashboardCSP lets the page load its own script, style and data, and
// nothing else: no inline script, no third party, no framing.
const dashboardCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

//go:embed assets/dashboard.html assets/signin.html assets/dashboard.js assets/dashboard.css assets/chart.umd.min.js
var dashboardFiles embed.FS

var dashboardTemplates = template.Must(template.ParseFS(dashboardFiles, "assets/dashboard.html", "assets/signin.html"))

// Dashboard serves the dashboard, read from src and locked by token, at
// /dashboard: on DashboardAddr if set, else on Addr. Without a token it
// serves nothing, and /dashboard answers 404.
func (s *Server) Dashboard(src DashboardSource, token string) {
	if token == "" {
		return
	}
	sum := sha256.Sum256([]byte(token))
	d := &dashboard{src: src, key: []byte(token), sum: sum, log: s.log(), sampler: NewSampler(RefusalLogEvery), now: time.Now}
	mux := s.mux
	if s.dash != nil {
		mux = s.dash
	}
	mux.Handle("GET /dashboard", d.headers(d.page))
	mux.Handle("POST /dashboard/sign-in", d.headers(d.signIn))
	mux.Handle("POST /dashboard/sign-out", d.headers(d.signOut))
	mux.Handle("GET /dashboard/data.json", d.headers(d.data))
	mux.Handle("GET /dashboard/app.js", d.headers(d.asset("assets/dashboard.js", "text/javascript; charset=utf-8", true)))
	mux.Handle("GET /dashboard/chart.js", d.headers(d.asset("assets/chart.umd.min.js", "text/javascript; charset=utf-8", true)))
	// The style is the sign-in form's too.
	mux.Handle("GET /dashboard/app.css", d.headers(d.asset("assets/dashboard.css", "text/css; charset=utf-8", false)))
}

// DashboardHandler is the handler that serves /dashboard, for tests.
func (s *Server) DashboardHandler() http.Handler {
	if s.dash != nil {
		return s.dash
	}
	return s.mux
}

type dashboard struct {
	src     DashboardSource
	key     []byte   // the token: the key of the sign-in cookies' HMAC
	sum     [32]byte // its SHA-256, to compare tokens in constant time
	log     *slog.Logger
	sampler *Sampler
	now     func() time.Time
}

// headers sets what every dashboard answer carries: nothing is cached or
// framed, and the page runs only its own code.
func (d *dashboard) headers(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Cache-Control", "no-store")
		hd.Set("Content-Security-Policy", dashboardCSP)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		h(w, r)
	})
}

// isToken reports whether s is the token. Both sides are hashed first, so
// the comparison takes the same time whatever s's length.
func (d *dashboard) isToken(s string) bool {
	sum := sha256.Sum256([]byte(s))
	return subtle.ConstantTimeCompare(sum[:], d.sum[:]) == 1
}

// authorized reports whether r shows the token (bearer) or a valid
// sign-in cookie. A wrong bearer token is refused, cookie or not.
func (d *dashboard) authorized(r *http.Request) bool {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, ok := strings.Cut(h, " ")
		return ok && strings.EqualFold(scheme, "Bearer") && d.isToken(strings.TrimSpace(cred))
	}
	c, err := r.Cookie(dashboardCookie)
	return err == nil && d.validSession(c.Value)
}

// session is a cookie value valid until expiry: the expiry and its HMAC.
func (d *dashboard) session(expiry time.Time) string {
	exp := strconv.FormatInt(expiry.Unix(), 10)
	return exp + "." + base64.RawURLEncoding.EncodeToString(d.mac(exp))
}

func (d *dashboard) mac(exp string) []byte {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte("liaison dashboard session until " + exp))
	return m.Sum(nil)
}

func (d *dashboard) validSession(v string) bool {
	exp, sig, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !d.now().Before(time.Unix(unix, 0)) {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	return err == nil && hmac.Equal(got, d.mac(exp))
}

// page serves the dashboard, or signs in with ?token=, or asks to sign in.
func (d *dashboard) page(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Has("token") {
		if !d.isToken(q.Get("token")) {
			d.refuse(w, r, true)
			return
		}
		target := "/dashboard"
		if days, ok := periodOf(q.Get("days")); ok && q.Get("days") != "" {
			target += "?days=" + strconv.Itoa(days)
		}
		d.grant(w, r, target)
		return
	}
	if !d.authorized(r) {
		d.refuse(w, r, false)
		return
	}
	days, ok := periodOf(q.Get("days"))
	if !ok {
		days = DefaultDashboardDays
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	err := dashboardTemplates.ExecuteTemplate(w, "dashboard.html", struct {
		Days, Refresh int
		Periods       []int
		ChartJS       string
	}{days, int(DashboardRefresh.Seconds()), DashboardPeriods, ChartJSVersion})
	if err != nil {
		d.log.Error("dashboard: render the page", "err", err)
	}
}

// signIn takes the sign-in form.
func (d *dashboard) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, formLimit)
	if err := r.ParseForm(); err != nil || !d.isToken(r.PostForm.Get("token")) {
		d.refuse(w, r, true)
		return
	}
	d.grant(w, r, "/dashboard")
}

// grant sets the sign-in cookie and sends the browser to target, so the
// token leaves the address bar and the history.
func (d *dashboard) grant(w http.ResponseWriter, r *http.Request, target string) {
	expiry := d.now().Add(DashboardSession)
	http.SetCookie(w, &http.Cookie{
		Name: dashboardCookie, Value: d.session(expiry), Path: "/dashboard",
		Expires: expiry, MaxAge: int(DashboardSession.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(r),
	})
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (d *dashboard) signOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: dashboardCookie, Value: "", Path: "/dashboard", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(r),
	})
	http.Redirect(w, r, "/dashboard", http.StatusSeeOther)
}

// overTLS reports whether the browser reached us over TLS, directly or
// through a proxy that says so.
func overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

// refuse answers 401 with the sign-in form, and no figure. wrong says a
// token was given and is not the one.
func (d *dashboard) refuse(w http.ResponseWriter, r *http.Request, wrong bool) {
	if wrong {
		if ok, n := d.sampler.Allow("dashboard token"); ok {
			d.log.Warn("dashboard: wrong token refused", "remote", r.RemoteAddr, "suppressed", n)
		}
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="Liaison dashboard"`)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusUnauthorized)
	if err := dashboardTemplates.ExecuteTemplate(w, "signin.html", struct{ Wrong bool }{wrong}); err != nil {
		d.log.Error("dashboard: render the sign-in form", "err", err)
	}
}

// asset serves an embedded file; locked ones only to a signed-in client.
func (d *dashboard) asset(name, contentType string, locked bool) http.HandlerFunc {
	body, err := dashboardFiles.ReadFile(name)
	if err != nil {
		panic("dashboard: missing embedded " + name) // a build without its assets
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if locked && !d.authorized(r) {
			d.refuse(w, r, false)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	}
}

// periodOf reads ?days=: one of DashboardPeriods, DefaultDashboardDays when
// empty; ok is false for anything else.
func periodOf(s string) (days int, ok bool) {
	if s == "" {
		return DefaultDashboardDays, true
	}
	n, err := strconv.Atoi(s)
	for _, p := range DashboardPeriods {
		if err == nil && n == p {
			return n, true
		}
	}
	return 0, false
}

// locationOf reads ?tz=, the browser's time zone, in which days are cut;
// UTC when it is missing or unknown here.
func locationOf(tz string) *time.Location {
	if tz == "" || len(tz) > 64 || tz == "Local" {
		return time.UTC
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return time.UTC
	}
	return loc
}

// data serves the figures: the period's, overall and by route, the
// previous period's, and the queue now.
func (d *dashboard) data(w http.ResponseWriter, r *http.Request) {
	if !d.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "sign in at /dashboard first"})
		return
	}
	q := r.URL.Query()
	days, ok := periodOf(q.Get("days"))
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "days must be 7, 30 or 90"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), statsTimeout)
	defer cancel()
	fig, err := d.figures(ctx, days, locationOf(q.Get("tz")))
	if err != nil {
		d.log.Error("dashboard: compute the figures", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "the figures could not be computed; see Liaison's log"})
		return
	}
	writeJSON(w, http.StatusOK, fig)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// The encoder escapes <, > and &: the figures are data, never markup.
	_ = json.NewEncoder(w).Encode(v)
}

// The figures as data.json gives them. Durations are in whole seconds.

type dashboardData struct {
	GeneratedAt time.Time `json:"generated_at"`
	TimeZone    string    `json:"time_zone"`
	Days        int       `json:"days"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Overall     period    `json:"overall"`
	// Previous is the period of the same length just before From.
	Previous   period     `json:"previous"`
	Queue      queue      `json:"queue"`
	Responders []count    `json:"responders"`
	Histogram  []bucket   `json:"first_answer_histogram"`
	Daily      []day      `json:"daily"`
	Routes     []routeFig `json:"routes"`
}

type period struct {
	ItemsIn             int     `json:"items_in"`
	Answered            int     `json:"answered"`
	AnsweredShare       float64 `json:"answered_share"`
	FirstAnswer         spread  `json:"first_answer"`
	FirstAnswerBusiness spread  `json:"first_answer_business"`
	Approval            spread  `json:"approval"`
	WithinSLA           int     `json:"within_sla"`
	PastSLA             int     `json:"past_sla"`
	// SLACompliance is WithinSLA's share of the items the SLA was decided
	// for; null when there is none.
	SLACompliance *float64 `json:"sla_compliance"`
	Members       int      `json:"members"`
	Returning     int      `json:"returning"`
	TopTags       []count  `json:"top_tags"`
}

type spread struct {
	N             int   `json:"n"`
	MedianSeconds int64 `json:"median_seconds"`
	P90Seconds    int64 `json:"p90_seconds"`
}

type count struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

type queue struct {
	Unanswered       int       `json:"unanswered"`
	AwaitingApproval int       `json:"awaiting_approval"`
	PastSLA          int       `json:"past_sla"`
	Oldest           []waiting `json:"oldest"`
}

type waiting struct {
	ItemID         int64     `json:"item_id"`
	Route          string    `json:"route"`
	Summary        string    `json:"summary"`
	Since          time.Time `json:"since"`
	WaitingSeconds int64     `json:"waiting_seconds"`
	Link           string    `json:"link"`
	CardLink       string    `json:"card_link"`
}

type bucket struct {
	Label string `json:"label"`
	N     int    `json:"n"`
}

type day struct {
	Date                     string `json:"date"` // 2006-01-02, in TimeZone
	In                       int    `json:"in"`
	Answered                 int    `json:"answered"`
	FirstAnswerMedianSeconds int64  `json:"first_answer_median_seconds"`
	// Routes are the day's items by route; items of a route no longer
	// configured count only in In.
	Routes map[string]dayCount `json:"routes"`
}

type dayCount struct {
	In       int `json:"in"`
	Answered int `json:"answered"`
}

type routeFig struct {
	Route       string   `json:"route"`
	Current     period   `json:"current"`
	Previous    period   `json:"previous"`
	Queue       queue    `json:"queue"`
	FirstAnswer []bucket `json:"first_answer_histogram"`
}

// firstAnswerBuckets cut the distribution of times to first answer.
var firstAnswerBuckets = []struct {
	label string
	below time.Duration // 0: no bound
}{
	{"< 1 h", time.Hour},
	{"1–4 h", 4 * time.Hour},
	{"4–24 h", 24 * time.Hour},
	{"1–3 d", 72 * time.Hour},
	{"> 3 d", 0},
}

// histogram counts ds in firstAnswerBuckets.
func histogram(ds []time.Duration) []bucket {
	out := make([]bucket, len(firstAnswerBuckets))
	for i, b := range firstAnswerBuckets {
		out[i].Label = b.label
	}
	for _, d := range ds {
		i := 0
		for firstAnswerBuckets[i].below != 0 && d >= firstAnswerBuckets[i].below {
			i++
		}
		out[i].N++
	}
	return out
}

// figures computes the last days days up to now, cut in loc: all routes,
// then each route.
func (d *dashboard) figures(ctx context.Context, days int, loc *time.Location) (*dashboardData, error) {
	now := d.now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	q := bot.StatsQuery{From: today.AddDate(0, 0, 1-days), To: now}
	all, err := d.src.Stats(ctx, q, loc)
	if err != nil {
		return nil, err
	}
	out := &dashboardData{
		GeneratedAt: now, TimeZone: loc.String(), Days: days, From: q.From, To: q.To,
		Overall: periodOfStats(all.Current), Previous: periodOfStats(all.Previous),
		Queue: queueOf(all.Queue, now), Responders: counts(nil), Histogram: histogram(nil),
		Daily: []day{}, Routes: []routeFig{},
	}
	if all.Current != nil {
		out.Responders = counts(all.Current.Responders)
		out.Histogram = histogram(all.Current.FirstAnswers)
		for _, dd := range all.Current.Days {
			out.Daily = append(out.Daily, day{
				Date: dd.Date.In(loc).Format(time.DateOnly), In: dd.In, Answered: dd.Answered,
				FirstAnswerMedianSeconds: seconds(dd.FirstAnswer), Routes: map[string]dayCount{},
			})
		}
	}
	byDate := map[string]*day{}
	for i := range out.Daily {
		byDate[out.Daily[i].Date] = &out.Daily[i]
	}
	for _, name := range d.src.Routes() {
		rq := q
		rq.Route = name
		rep, err := d.src.Stats(ctx, rq, loc)
		if err != nil {
			return nil, err
		}
		rf := routeFig{Route: name, Current: periodOfStats(rep.Current), Previous: periodOfStats(rep.Previous), Queue: queueOf(rep.Queue, now), FirstAnswer: histogram(nil)}
		if rep.Current != nil {
			rf.FirstAnswer = histogram(rep.Current.FirstAnswers)
			for _, dd := range rep.Current.Days {
				if od := byDate[dd.Date.In(loc).Format(time.DateOnly)]; od != nil {
					od.Routes[name] = dayCount{In: dd.In, Answered: dd.Answered}
				}
			}
		}
		out.Routes = append(out.Routes, rf)
	}
	return out, nil
}

func periodOfStats(s *bot.Stats) period {
	p := period{TopTags: []count{}}
	if s == nil {
		return p
	}
	p = period{
		ItemsIn: s.ItemsIn, Answered: s.Answered, AnsweredShare: s.AnsweredShare(),
		FirstAnswer: spreadOf(s.FirstAnswer), FirstAnswerBusiness: spreadOf(s.FirstAnswerBusiness), Approval: spreadOf(s.Approval),
		WithinSLA: s.WithinSLA, PastSLA: s.PastSLA, Members: s.Members, Returning: s.Returning, TopTags: counts(s.TopTags),
	}
	if n := s.WithinSLA + s.PastSLA; n > 0 {
		c := float64(s.WithinSLA) / float64(n)
		p.SLACompliance = &c
	}
	return p
}

func spreadOf(s bot.Spread) spread {
	return spread{N: s.N, MedianSeconds: seconds(s.Median), P90Seconds: seconds(s.P90)}
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }

func counts(cs []bot.Count) []count {
	out := make([]count, 0, len(cs))
	for _, c := range cs {
		out = append(out, count{Name: c.Name, N: c.N})
	}
	return out
}

// queueOf is q, its waits measured at when it was read (now if unknown).
func queueOf(q bot.Queue, now time.Time) queue {
	if !q.At.IsZero() {
		now = q.At
	}
	out := queue{Unanswered: q.Unanswered, AwaitingApproval: q.AwaitingApproval, PastSLA: q.PastSLA, Oldest: []waiting{}}
	for _, wt := range q.Oldest {
		out.Oldest = append(out.Oldest, waiting{
			ItemID: wt.ItemID, Route: wt.Route, Summary: wt.Summary, Since: wt.Since,
			WaitingSeconds: seconds(max(0, now.Sub(wt.Since))), Link: webLink(wt.Link), CardLink: webLink(wt.CardLink),
		})
	}
	return out
}

// webLink is s if it is an http(s) URL, else "": the page makes links of
// it, and a javascript: one would run.
func webLink(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return s
}
