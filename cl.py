import socket,sys
for req in [b"GET /bad HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", b"GET /deny HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /ret HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /redir HTTP/1.1\r\nHost: x\r\n\r\n"]:
    s=socket.create_connection(("127.0.0.1",25911)); s.sendall(req); d=b""
    s.settimeout(2)
    try:
        while True:
            x=s.recv(65536)
            if not x: break
            d+=x
            if b"\r\n\r\n" in d and (b"content-length: 0" in d.lower() or len(d)>60): 
                pass
    except Exception: pass
    print(len(d), d); s.close()
