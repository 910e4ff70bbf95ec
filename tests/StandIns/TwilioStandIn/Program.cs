using SafeNotify.Crm.TwilioStandIn;

var app = TwilioStandInApp.Build(args);
app.Run();
