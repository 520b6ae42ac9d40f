//! End-to-end tests of the HTTP stats page (`stats enable`, `stats uri`,
//! `stats auth`) against the real binary, compared with HAProxy 2.6.12.

mod support;
use support::{Backend, Behaviour, Proxy, body, free_port, status_line};

const HAPROXY: &str = "/usr/sbin/haproxy";

/// The `show stat` header captured from HAProxy 2.6.12.
const HEADER: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,";

/// A frontend/backend pair plus `listen stats` on `@PORT@`.
fn config(fe_port: u16, srv_port: u16) -> String {
    format!(
        "global\n    maxconn 100\n\ndefaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\n\
frontend fe_main\n    bind 127.0.0.1:{fe_port}\n    default_backend be_web\n\n\
backend be_web\n    server web_one 127.0.0.1:{srv_port}\n    server web_two 127.0.0.1:{srv_port} backup\n\n\
listen stats\n    bind 127.0.0.1:@PORT@\n    stats enable\n    stats uri /st\n    stats auth a:b\n"
    )
}

/// `Authorization` for `a:b`.
const AUTH: &str = "Authorization: Basic YTpi\r\n";

fn get(p: &Proxy, path: &str, auth: bool) -> String {
    let a = if auth { AUTH } else { "" };
    p.raw(&format!(
        "GET {path} HTTP/1.1\r\nHost: t\r\n{a}Connection: close\r\n\r\n"
    ))
}

/// The response head (status line and headers) without the blank line.
fn head(resp: &str) -> &str {
    resp.split_once("\r\n\r\n").map_or(resp, |x| x.0)
}

/// Decodes a chunked body.
fn dechunk(mut b: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = b.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        b = rest[n..].trim_start_matches("\r\n");
    }
    out
}

#[test]
fn stats_page_without_auth_is_haproxys_401() {
    let srv = Backend::start("s", Behaviour::Http);
    let ours = Proxy::start(&config(free_port(), srv.port));
    let resp = get(&ours, "/st", false);
    let want = "HTTP/1.1 401 Unauthorized\r\ncontent-length: 112\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nwww-authenticate: Basic realm=\"HAProxy Statistics\"\r\nconnection: close\r\n\r\n<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n";
    assert_eq!(resp, want);
    // Wrong credentials: the same page.
    let bad = ours.raw(
        "GET /st;csv HTTP/1.1\r\nHost: t\r\nAuthorization: Basic YTpj\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(bad, want);
    if std::path::Path::new(HAPROXY).exists() {
        let theirs = Proxy::start_with(HAPROXY, &config(free_port(), srv.port));
        let t = get(&theirs, "/st", false);
        assert_eq!(status_line(&resp), status_line(&t));
        assert_eq!(head(&resp), head(&t));
        assert_eq!(body(&resp), body(&t));
    }
}

#[test]
fn stats_page_with_auth_lists_every_proxy_and_server() {
    let srv = Backend::start("s", Behaviour::Http);
    let ours = Proxy::start(&config(free_port(), srv.port));
    let resp = get(&ours, "/st", true);
    assert_eq!(status_line(&resp), "HTTP/1.1 200 OK");
    assert!(resp.contains("\r\ncontent-type: text/html\r\n"), "{resp}");
    assert!(resp.contains("\r\ncache-control: no-cache\r\n"), "{resp}");
    let html = dechunk(body(&resp));
    for name in ["fe_main", "be_web", "stats", "web_one", "web_two"] {
        assert!(
            html.contains(&format!(">{name}<")),
            "{name} missing:\n{html}"
        );
    }
    assert!(html.contains("class=\"active_no_check\""), "{html}");
    assert!(html.contains("class=\"backup_no_check\""), "{html}");
    assert!(html.ends_with("</html>\n"));
}

#[test]
fn stats_csv_starts_with_show_stat_header() {
    let srv = Backend::start("s", Behaviour::Http);
    let ours = Proxy::start(&config(free_port(), srv.port));
    for path in ["/st;csv", "/st;csv;norefresh"] {
        let resp = get(&ours, path, true);
        assert_eq!(status_line(&resp), "HTTP/1.1 200 OK");
        assert!(resp.contains("\r\ncontent-type: text/plain\r\n"), "{resp}");
        let csv = dechunk(body(&resp));
        assert_eq!(csv.lines().next(), Some(HEADER));
        for row in [
            "fe_main,FRONTEND,",
            "be_web,web_one,",
            "be_web,web_two,",
            "be_web,BACKEND,",
            "stats,FRONTEND,",
            "stats,BACKEND,",
        ] {
            assert!(
                csv.lines().any(|l| l.starts_with(row)),
                "{row} missing:\n{csv}"
            );
        }
    }
    // Outside the stats uri: HAProxy's 503 (the listen has no server).
    let other = get(&ours, "/other", true);
    assert_eq!(status_line(&other), "HTTP/1.1 503 Service Unavailable");
}
