-- wrk script: POST one JSON body to the URL given on the command line (used by crosscheck.sh).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BODY") or '{"input": "the cat sat on the mat and watched the birds in the garden all afternoon"}'
